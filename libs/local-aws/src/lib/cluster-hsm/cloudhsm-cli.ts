import type { CloudHsmV2Emulator } from '../cloudhsm-v2/cloudhsm-v2.emulator';
import type { ClusterRecord } from '../cloudhsm-v2/cloudhsm-v2.model';
import { USERNAME, hashPassword, newClusterHsmData, passwordMatches, type ClusterHsmData, type HsmRole, type HsmUserRecord } from './cluster-hsm.model';

/** One `cloudhsm-cli` invocation in single-command mode: its arguments and the credential variables. */
export interface CliRequest {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What the real CLI prints (a JSON envelope) and its exit status (0 on success, 1 on error). */
export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
}

/** Users per cluster by HSM type (CloudHSM quotas). */
const MAX_USERS = { 'hsm1.medium': 250, 'hsm2m.medium': 1024 } as const;

class CliError extends Error {}

type Flags = Map<string, string[]>;

/** `--name v1 v2 --flag --other v` -> name: [v1, v2], flag: [], other: [v]. */
function parseFlags(args: readonly string[]): { positionals: string[]; flags: Flags } {
  const positionals: string[] = [];
  const flags: Flags = new Map();
  let current: string[] | undefined;
  for (const arg of args) {
    if (arg.startsWith('--')) {
      current = [];
      flags.set(arg.slice(2), current);
    } else if (current) current.push(arg);
    else positionals.push(arg);
  }
  return { positionals, flags };
}

function one(flags: Flags, name: string, required = true): string | undefined {
  const values = flags.get(name);
  if (!values || values.length === 0) {
    if (required) throw new CliError(`the following required arguments were not provided: --${name} <${name.toUpperCase()}>`);
    return undefined;
  }
  if (values.length > 1) throw new CliError(`--${name} takes one value`);
  return values[0];
}

/**
 * cloudhsm-cli's single-command mode, executed by cloudhsm-local against its clusters:
 * the real command syntax, credentials from CLOUDHSM_ROLE / CLOUDHSM_PIN (`user:password`),
 * `--cluster-id` to choose a cluster, and the real JSON envelope
 * (`{"error_code":0,"data":...}`, errors with `error_code` 1 and a message).
 */
export class CloudHsmCli {
  constructor(
    private readonly hsm: CloudHsmV2Emulator,
    private readonly save: () => void,
  ) {}

  run(request: CliRequest): CliResult {
    try {
      const [group, verb, ...rest] = request.argv;
      const { positionals, flags } = parseFlags(rest);
      if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0] ?? ''}' found`);
      const data = this.dispatch(`${group ?? ''} ${verb ?? ''}`.trim(), flags, request.env);
      this.save();
      return { exitCode: 0, stdout: `${JSON.stringify({ error_code: 0, data }, null, 2)}\n` };
    } catch (err) {
      const message = err instanceof CliError ? err.message : err instanceof Error ? err.message : 'An unknown error occurred';
      return { exitCode: 1, stdout: `${JSON.stringify({ error_code: 1, data: message }, null, 2)}\n` };
    }
  }

  private dispatch(command: string, flags: Flags, env: CliRequest['env']): unknown {
    switch (command) {
      case 'cluster activate':
        return this.activate(flags);
      case 'user list':
        return this.userList(flags);
      case 'user create':
        return this.userCreate(flags, env);
      case 'user delete':
        return this.userDelete(flags, env);
      case 'user change-password':
        return this.userChangePassword(flags, env);
      default:
        throw new CliError(`unrecognized subcommand '${command}'`);
    }
  }

  private activate(flags: Flags): string {
    const password = one(flags, 'password');
    assertPassword(password ?? '');
    const { region, cluster } = this.cluster(flags);
    this.hsm.activate(region, cluster.clusterId, password);
    return 'Cluster activation successful';
  }

  private userList(flags: Flags) {
    const { data } = this.hsmData(flags);
    return {
      users: data.users.map((u) => ({
        username: u.username,
        role: u.role,
        locked: 'false',
        mfa: [],
        quorum: [],
        'cluster-coverage': 'full',
      })),
    };
  }

  private userCreate(flags: Flags, env: CliRequest['env']) {
    const { cluster, data } = this.hsmData(flags);
    this.login(data, env, ['admin']);
    this.assertWritable(cluster);
    const username = normaliseUsername(one(flags, 'username') ?? '');
    const role = parseRole(one(flags, 'role') ?? '');
    const password = one(flags, 'password') ?? '';
    assertPassword(password);
    if (data.users.some((u) => u.username === username)) throw new CliError(`User ${username} already exists`);
    if (data.users.length >= MAX_USERS[cluster.hsmType]) throw new CliError(`The cluster already has the maximum of ${MAX_USERS[cluster.hsmType]} users`);
    data.users.push({ username, role, ...hashPassword(password) });
    return { username, role };
  }

  private userDelete(flags: Flags, env: CliRequest['env']) {
    const { cluster, data } = this.hsmData(flags);
    const actor = this.login(data, env, ['admin']);
    this.assertWritable(cluster);
    const target = this.user(data, flags);
    if (target.username === actor.username) throw new CliError('You cannot delete the user you are logged in as');
    data.users = data.users.filter((u) => u !== target);
    return { username: target.username, role: target.role };
  }

  private userChangePassword(flags: Flags, env: CliRequest['env']) {
    const { cluster, data } = this.hsmData(flags);
    const actor = this.login(data, env, ['admin', 'crypto-user']);
    this.assertWritable(cluster);
    const target = this.user(data, flags);
    if (actor.role !== 'admin' && actor.username !== target.username) throw new CliError('A crypto user can change only its own password');
    const password = one(flags, 'password') ?? '';
    assertPassword(password);
    Object.assign(target, hashPassword(password));
    return { username: target.username, role: target.role };
  }

  /** Checks CLOUDHSM_ROLE / CLOUDHSM_PIN against the cluster's users. */
  private login(data: ClusterHsmData, env: CliRequest['env'], allowed: readonly HsmRole[]): HsmUserRecord {
    const role = env['CLOUDHSM_ROLE'];
    const pin = env['CLOUDHSM_PIN'];
    if (!role || !pin) throw new CliError('This command needs a logged-in user: set CLOUDHSM_ROLE and CLOUDHSM_PIN=<username>:<password>');
    const separator = pin.indexOf(':');
    const username = pin.slice(0, separator).toLowerCase();
    const user = data.users.find((u) => u.username === username && u.role === role);
    if (separator < 1 || !user || !passwordMatches(user, pin.slice(separator + 1))) throw new CliError('Login failed: invalid username, role or password');
    if (!allowed.includes(user.role)) throw new CliError(`This operation is not permitted for the ${user.role} role`);
    return user;
  }

  private user(data: ClusterHsmData, flags: Flags): HsmUserRecord {
    const username = normaliseUsername(one(flags, 'username') ?? '');
    const role = parseRole(one(flags, 'role') ?? '');
    const user = data.users.find((u) => u.username === username && u.role === role);
    if (!user) throw new CliError(`User ${username} with role ${role} does not exist`);
    return user;
  }

  /** Limited-write mode during an hsm1 -> hsm2m migration or its rollback. */
  private assertWritable(cluster: ClusterRecord): void {
    if (cluster.state === 'MODIFY_IN_PROGRESS' || cluster.state === 'ROLLBACK_IN_PROGRESS') {
      throw new CliError('The cluster is in limited-write mode during an HSM type migration: this operation is not allowed');
    }
  }

  private hsmData(flags: Flags): { cluster: ClusterRecord; data: ClusterHsmData } {
    const { cluster } = this.cluster(flags);
    const data = (cluster.hsm ??= newClusterHsmData(cluster.clusterId));
    return { cluster, data };
  }

  private cluster(flags: Flags): { region: string; cluster: ClusterRecord } {
    const id = one(flags, 'cluster-id', false);
    if (id !== undefined) {
      const found = this.hsm.findCluster(id);
      if (!found) throw new CliError(`Cluster ${id} is not configured`);
      return found;
    }
    const usable = this.hsm.allClusters().filter(({ cluster }) => cluster.hsms.some((h) => h.state === 'ACTIVE'));
    if (usable.length === 1 && usable[0]) return usable[0];
    throw new CliError(usable.length === 0 ? 'No cluster with an active HSM is configured' : 'Multiple clusters are configured: select one with --cluster-id');
  }
}

function normaliseUsername(username: string): string {
  if (!USERNAME.test(username)) throw new CliError('Invalid username: use 1-31 letters, digits or underscores');
  return username.toLowerCase();
}

function parseRole(role: string): HsmRole {
  if (role !== 'admin' && role !== 'crypto-user') throw new CliError(`invalid value '${role}' for '--role <ROLE>': expected admin or crypto-user`);
  return role;
}

function assertPassword(password: string): void {
  if (password.length < 8 || password.length > 32) throw new CliError('Invalid password: it must be 8 to 32 characters');
}
