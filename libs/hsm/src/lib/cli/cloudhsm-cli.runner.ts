import { execFile } from 'node:child_process';
import { HsmException, HsmExceptionCode } from '../hsm.exception';

/** Who a cloudhsm-cli command logs in as (`CLOUDHSM_ROLE`, `CLOUDHSM_PIN=<username>:<password>`). */
export interface CliLogin {
  readonly role: 'admin' | 'crypto-user';
  readonly username: string;
  readonly password: string;
}

/**
 * Runs one cloudhsm-cli command in single-command mode and returns the `data` of its JSON
 * envelope (`{"error_code": 0, "data": ...}`). The port the admin plane depends on, so unit
 * tests replace the executable.
 */
export interface CloudHsmCliRunner {
  /**
   * @param argv the command and its options (`key list --filter attr.label=x ...`), without `--cluster-id`
   * @param login the user the command runs as; omitted for commands that need none (`user list`)
   * @param destination `DESTINATION_CLOUDHSM_*` (key replicate logs in on the destination cluster too)
   * @throws HsmException with the CLI's reason (`CommandRefused`, `KeyNotFound`, `LoginFailed`, ...) or `CliUnavailable`
   */
  run(argv: readonly string[], login?: CliLogin, destination?: CliLogin): Promise<unknown>;
}

export interface ProcessCloudHsmCliOptions {
  /** The executable: AWS's `/opt/cloudhsm/bin/cloudhsm-cli`, or cloudhsm-local's `bin/cloudhsm-cli`. */
  readonly executable: string;
  /** Variables the executable needs besides the credentials (PATH; CLOUDHSM_LOCAL_ENDPOINT locally). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Longest a command may take (default 60 s: generating an RSA-4096 pair on an HSM takes seconds). */
  readonly timeoutMs?: number;
}

/**
 * cloudhsm-cli as a child process. Credentials travel only in the child's environment (never
 * in argv, never logged); an error carries the CLI's own reason and never the command line,
 * which may hold a new user's password (`user create --password`).
 */
export class ProcessCloudHsmCli implements CloudHsmCliRunner {
  constructor(private readonly options: ProcessCloudHsmCliOptions) {}

  run(argv: readonly string[], login?: CliLogin, destination?: CliLogin): Promise<unknown> {
    const command = commandName(argv);
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.options.env ?? {})) if (value !== undefined) env[name] = value;
    if (login) Object.assign(env, { CLOUDHSM_ROLE: login.role, CLOUDHSM_PIN: `${login.username}:${login.password}` });
    if (destination) Object.assign(env, { DESTINATION_CLOUDHSM_ROLE: destination.role, DESTINATION_CLOUDHSM_PIN: `${destination.username}:${destination.password}` });
    return new Promise((resolve, reject) => {
      execFile(this.options.executable, [...argv], { env, timeout: this.options.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => {
        let envelope: { error_code?: unknown; data?: unknown } | undefined;
        try {
          envelope = JSON.parse(stdout) as { error_code?: unknown; data?: unknown };
        } catch {
          envelope = undefined;
        }
        if (envelope && typeof envelope.error_code === 'number') {
          if (envelope.error_code === 0) resolve(envelope.data);
          else reject(cliFailure(command, typeof envelope.data === 'string' ? envelope.data : 'the command failed'));
          return;
        }
        const why = err && 'killed' in err && err.killed ? 'timed out' : err && (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'executable not found' : 'no JSON answer';
        reject(new HsmException(HsmExceptionCode.CliUnavailable, `cloudhsm-cli ${command}: ${why}`, { cause: err ?? undefined }));
      });
    });
  }
}

/** `key generate-symmetric aes --label x` -> `key generate-symmetric aes` (the words before the first option). */
export function commandName(argv: readonly string[]): string {
  const end = argv.findIndex((a) => a.startsWith('--'));
  return (end < 0 ? argv : argv.slice(0, end)).join(' ');
}

/**
 * The one place that classifies cloudhsm-cli's refusals. The CLI reports every failure with
 * error_code 1 and a sentence, so the sentence's fixed beginnings are all there is to go by
 * (the wording AWS documents for key selection and login; cloudhsm-local uses the same).
 */
export function cliFailure(command: string, reason: string): HsmException {
  const code = /^Key selection criteria matched 0 keys/.test(reason)
    ? HsmExceptionCode.KeyNotFound
    : /^Login failed/.test(reason)
      ? HsmExceptionCode.LoginFailed
      : /already exists/.test(reason)
        ? HsmExceptionCode.AlreadyExists
        : /^(User .* does not exist|Crypto user .* does not exist)/.test(reason)
          ? HsmExceptionCode.UserNotFound
          : HsmExceptionCode.CommandRefused;
  return new HsmException(code, `cloudhsm-cli ${command}: ${reason}`);
}
