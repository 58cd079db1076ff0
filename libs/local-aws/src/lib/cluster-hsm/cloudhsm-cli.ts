import type { CloudHsmV2Emulator } from '../cloudhsm-v2/cloudhsm-v2.emulator';
import type { ClusterRecord } from '../cloudhsm-v2/cloudhsm-v2.model';
import {
  constants,
  createCipheriv,
  createDecipheriv,
  privateDecrypt,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  type CipherGCM,
  type CipherGCMTypes,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';
import {
  USERNAME,
  hashPassword,
  newClusterHsmData,
  passwordMatches,
  sealMaterial,
  unsealMaterial,
  type ClusterHsmData,
  type HsmKeyRecord,
  type HsmRole,
  type HsmUserRecord,
  type KeyAttributes,
} from './cluster-hsm.model';
import { CliError } from './cloudhsm-cli.error';
import { DIGEST_LENGTHS, isCliHash, signDigest, verifyDigest, type CliSignatureMechanism } from './digest-signature';
import type { HsmChangeListener, LoginProbe } from './hsm-change';
import { holdersOf, offerKey } from './mirror-cluster';

/** One `cloudhsm-cli` invocation in single-command mode: its arguments and the credential variables. */
export interface CliRequest {
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What the real CLI prints (a JSON envelope) and its exit status (0 on success, 1 on error). */
export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  /** Files the command writes on the caller's machine (`--path`); the executable writes them. */
  readonly files?: readonly { readonly path: string; readonly content: string }[];
}

/** Users per cluster by HSM type (CloudHSM quotas). */
const MAX_USERS = { 'hsm1.medium': 250, 'hsm2m.medium': 1024 } as const;
/** Keys per cluster by HSM type (CloudHSM quotas); hsm2m holds at most 3,333 asymmetric keys. */
const MAX_KEYS = { 'hsm1.medium': 3300, 'hsm2m.medium': 16666 } as const;
const MAX_ASYMMETRIC_KEYS = { 'hsm1.medium': 3300, 'hsm2m.medium': 3333 } as const;
/** `<clusterId>/<username>` must fit a 32-byte PKCS#11 token label. */
const MAX_TOKEN_USERNAME = 12;

/** Attributes a new secret key gets unless --attributes says otherwise (cloudhsm-cli's defaults). */
const SECRET_KEY_DEFAULTS: KeyAttributes = {
  class: 'secret-key',
  encrypt: false,
  decrypt: false,
  token: true,
  'always-sensitive': true,
  derive: false,
  destroyable: true,
  extractable: true,
  local: true,
  modifiable: true,
  'never-extractable': false,
  private: true,
  sensitive: true,
  sign: false,
  trusted: false,
  unwrap: false,
  verify: false,
  wrap: false,
  'wrap-with-trusted': false,
};
const BOOLEAN_ATTRIBUTES = new Set(Object.keys(SECRET_KEY_DEFAULTS).filter((k) => typeof SECRET_KEY_DEFAULTS[k] === 'boolean'));
const SETTABLE_AT_GENERATION = new Set([...BOOLEAN_ATTRIBUTES].filter((k) => !['class', 'local', 'always-sensitive', 'never-extractable', 'trusted'].includes(k)));

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
    private readonly listener: HsmChangeListener = { apply: () => undefined },
    private readonly logins: LoginProbe = { isLoggedIn: () => false },
  ) {}

  run(request: CliRequest): CliResult {
    try {
      const [group, verb, ...rest] = request.argv;
      const { positionals, flags } = parseFlags(rest);
      let data: unknown;
      const files: { path: string; content: string }[] = [];
      if (group === 'key' && verb === 'generate-file') {
        if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0] ?? ''}' found`);
        data = this.generateFile(flags, request.env, files);
      } else if (group === 'key' && verb === 'generate-symmetric' && positionals.length === 1) {
        data = this.generateSymmetric(positionals[0] ?? '', flags, request.env);
      } else if (group === 'key' && verb === 'generate-asymmetric-pair' && positionals.length === 1) {
        data = this.generateAsymmetricPair(positionals[0] ?? '', flags, request.env);
      } else if (group === 'key' && verb === 'import' && positionals[0] === 'pem' && positionals.length === 1) {
        data = this.importPem(flags, request.env);
      } else if (group === 'key' && verb === 'wrap' && positionals.length === 1) {
        data = this.wrap(positionals[0] ?? '', flags, request.env);
      } else if (group === 'key' && verb === 'unwrap' && positionals.length === 1) {
        data = this.unwrap(positionals[0] ?? '', flags, request.env);
      } else if (group === 'crypto' && (verb === 'sign' || verb === 'verify') && positionals.length === 1) {
        data = verb === 'sign' ? this.cryptoSign(positionals[0] ?? '', flags, request.env) : this.cryptoVerify(positionals[0] ?? '', flags, request.env);
      } else {
        if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0] ?? ''}' found`);
        data = this.dispatch(`${group ?? ''} ${verb ?? ''}`.trim(), flags, request.env);
      }
      this.save();
      return { exitCode: 0, stdout: `${JSON.stringify({ error_code: 0, data }, null, 2)}\n`, ...(files.length > 0 ? { files } : {}) };
    } catch (err) {
      const message = err instanceof CliError ? err.message : err instanceof Error ? err.message : 'An unknown error occurred';
      return { exitCode: 1, stdout: `${JSON.stringify({ error_code: 1, data: message }, null, 2)}\n` };
    }
  }

  /**
   * Demo estates only: a 3DES key as hsm1 FIPS clusters still hold from before FIPS mode
   * refused 3DES (2023), so the 3DES migration can be rehearsed. Not a cloudhsm-cli command.
   */
  seedLegacyDes3Key(clusterId: string, owner: string, label: string): string {
    const found = this.hsm.findCluster(clusterId);
    if (!found?.cluster.hsm) throw new Error(`cluster ${clusterId} not found`);
    const data = found.cluster.hsm;
    const material = randomBytes(24);
    const key: HsmKeyRecord = {
      ref: nextRef(data),
      owner,
      sharedWith: [],
      attributes: { 'key-type': 'des3', label, id: '0x', ...SECRET_KEY_DEFAULTS, encrypt: true, decrypt: true, local: true, 'key-length-bytes': 24 },
      sealed: sealMaterial(data, material),
    };
    this.storeKeys(data, clusterId, [key]);
    this.save();
    return key.ref;
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
      case 'key generate-symmetric':
        throw new CliError("'key generate-symmetric' needs a key type: aes or generic-secret");
      case 'key list':
        return this.keyList(flags, env);
      case 'key share':
        return this.keyShare(flags, env, true);
      case 'key unshare':
        return this.keyShare(flags, env, false);
      case 'key delete':
        return this.keyDelete(flags, env);
      case 'key replicate':
        return this.keyReplicate(flags, env);
      case 'key set-attribute':
        return this.setAttribute(flags, env);
      case 'key import':
        throw new CliError("'key import' needs a format: pem");
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
    if (role === 'crypto-user') {
      if (username.length > MAX_TOKEN_USERNAME) {
        throw new CliError(`cloudhsm-local maps crypto users onto SoftHSM2 tokens labelled <cluster-id>/<username> (32 bytes): use at most ${MAX_TOKEN_USERNAME} characters`);
      }
      this.listener.apply({ kind: 'user-created', clusterId: cluster.clusterId, username, password });
      try {
        // Every crypto user sees every public key of the cluster.
        for (const key of (data.keys ?? []).filter((k) => k.attributes['class'] === 'public-key')) offerKey(data, cluster.clusterId, key, username, this.listener);
      } catch (err) {
        this.listener.apply({ kind: 'user-deleted', clusterId: cluster.clusterId, username });
        throw err;
      }
    }
    data.users.push({ username, role, ...hashPassword(password), ...(role === 'crypto-user' ? { sealedPassword: sealMaterial(data, Buffer.from(password)) } : {}) });
    return { username, role };
  }

  private userDelete(flags: Flags, env: CliRequest['env']) {
    const { cluster, data } = this.hsmData(flags);
    const actor = this.login(data, env, ['admin']);
    this.assertWritable(cluster);
    const target = this.user(data, flags);
    if (target.username === actor.username) throw new CliError('You cannot delete the user you are logged in as');
    if ((data.keys ?? []).some((k) => k.owner === target.username)) throw new CliError(`User ${target.username} owns keys: delete them first`);
    this.assertLoggedOut(cluster, target, 'deleting it');
    if (target.role === 'crypto-user') this.listener.apply({ kind: 'user-deleted', clusterId: cluster.clusterId, username: target.username });
    for (const key of data.keys ?? []) key.sharedWith = key.sharedWith.filter((u) => u !== target.username);
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
    this.assertLoggedOut(cluster, target, 'changing its password');
    if (target.role === 'crypto-user') this.listener.apply({ kind: 'password-changed', clusterId: cluster.clusterId, username: target.username, password });
    Object.assign(target, hashPassword(password), target.role === 'crypto-user' ? { sealedPassword: sealMaterial(data, Buffer.from(password)) } : {});
    return { username: target.username, role: target.role };
  }

  private generateSymmetric(keyType: string, flags: Flags, env: CliRequest['env']) {
    if (keyType !== 'aes' && keyType !== 'generic-secret') throw new CliError(`unrecognized subcommand '${keyType}': expected aes or generic-secret`);
    const { cluster, data } = this.hsmData(flags);
    const owner = this.login(data, env, ['crypto-user']);
    this.assertWritable(cluster);
    const label = one(flags, 'label') ?? '';
    if (label.length < 1 || label.length > 127) throw new CliError('Invalid label: 1 to 127 characters');
    const length = Number(one(flags, 'key-length-bytes'));
    if (keyType === 'aes' ? ![16, 24, 32].includes(length) : !(Number.isInteger(length) && length >= 1 && length <= 800)) {
      throw new CliError(keyType === 'aes' ? 'Invalid key length: AES keys are 16, 24 or 32 bytes' : 'Invalid key length: 1 to 800 bytes');
    }
    const keys = (data.keys ??= []);
    if (keys.length >= MAX_KEYS[cluster.hsmType]) throw new CliError(`The cluster already holds the maximum of ${MAX_KEYS[cluster.hsmType]} keys`);
    const attributes: KeyAttributes = { 'key-type': keyType, label, id: '0x', ...SECRET_KEY_DEFAULTS, 'key-length-bytes': length };
    for (const assignment of flags.get('attributes') ?? []) {
      const [name = '', value = ''] = assignment.split('=');
      if (!SETTABLE_AT_GENERATION.has(name) || !['true', 'false'].includes(value)) throw new CliError(`Invalid attribute ${name}: expected <attribute>=true|false`);
      attributes[name] = value === 'true';
    }
    if (flags.has('session')) attributes['token'] = false;
    attributes['never-extractable'] = attributes['extractable'] === false;
    const material = randomBytes(length);
    if (keyType === 'aes') attributes['check-value'] = checkValue(material);
    const sharees = (flags.get('share-crypto-users') ?? []).map((u) => this.cryptoUser(data, u).username);
    const key: HsmKeyRecord = {
      ref: nextRef(data),
      owner: owner.username,
      sharedWith: sharees.filter((u) => u !== owner.username),
      attributes,
      sealed: sealMaterial(data, material),
    };
    this.storeKeys(data, cluster.clusterId, [key]);
    return { key: keyJson(key, true) };
  }

  private keyList(flags: Flags, env: CliRequest['env']) {
    const { data } = this.hsmData(flags);
    const user = this.login(data, env, ['crypto-user', 'admin']);
    const visible = this.filter(data, flags, user).sort((a, b) => a.ref.localeCompare(b.ref));
    const max = Number(one(flags, 'max-items', false) ?? '10');
    if (!Number.isInteger(max) || max < 1) throw new CliError('Invalid --max-items: a positive integer');
    const start = Number(Buffer.from(one(flags, 'starting-token', false) ?? 'MA==', 'base64').toString('utf8'));
    if (!Number.isInteger(start) || start < 0) throw new CliError('Invalid --starting-token');
    const page = visible.slice(start, start + max);
    const verbose = flags.has('verbose');
    return {
      matched_keys: page.map((k) => keyJson(k, verbose)),
      total_key_count: visible.length,
      returned_key_count: page.length,
      ...(start + max < visible.length ? { next_token: Buffer.from(String(start + max)).toString('base64') } : {}),
    };
  }

  private keyShare(flags: Flags, env: CliRequest['env'], share: boolean) {
    const { cluster, data } = this.hsmData(flags);
    const user = this.login(data, env, ['crypto-user']);
    this.assertWritable(cluster);
    const key = this.singleKey(data, flags, user);
    if (key.owner !== user.username) throw new CliError('Only the key owner can share or unshare a key');
    if (key.attributes['class'] === 'public-key') throw new CliError('Public keys are visible to every user and are not shared');
    if (one(flags, 'role') !== 'crypto-user') throw new CliError("invalid value for '--role <ROLE>': keys are shared with crypto-user");
    const target = this.cryptoUser(data, one(flags, 'username') ?? '');
    if (target.username === key.owner) throw new CliError('The owner already has the key');
    if (share) {
      if (key.sharedWith.includes(target.username)) throw new CliError(`The key is already shared with ${target.username}`);
      offerKey(data, cluster.clusterId, key, target.username, this.listener);
      key.sharedWith.push(target.username);
      return { message: 'Key shared successfully' };
    }
    if (!key.sharedWith.includes(target.username)) throw new CliError(`The key is not shared with ${target.username}`);
    this.listener.apply({ kind: 'key-withdrawn', clusterId: cluster.clusterId, username: target.username, ref: key.ref });
    key.sharedWith = key.sharedWith.filter((u) => u !== target.username);
    return { message: 'Key unshared successfully' };
  }

  private keyDelete(flags: Flags, env: CliRequest['env']) {
    const { cluster, data } = this.hsmData(flags);
    const user = this.login(data, env, ['crypto-user']);
    this.assertWritable(cluster);
    const key = this.singleKey(data, flags, user);
    if (key.owner !== user.username) throw new CliError('Only the key owner can delete a key');
    for (const username of holdersOf(data, key)) this.listener.apply({ kind: 'key-withdrawn', clusterId: cluster.clusterId, username, ref: key.ref });
    data.keys = (data.keys ?? []).filter((k) => k !== key);
    return { message: 'Key deleted successfully' };
  }

  private generateAsymmetricPair(kind: string, flags: Flags, env: CliRequest['env']) {
    if (kind !== 'ec' && kind !== 'rsa') throw new CliError(`unrecognized subcommand '${kind}': expected rsa or ec`);
    const { cluster, data } = this.hsmData(flags);
    const owner = this.login(data, env, ['crypto-user']);
    this.assertWritable(cluster);
    const publicLabel = one(flags, 'public-label') ?? '';
    const privateLabel = one(flags, 'private-label') ?? '';
    for (const label of [publicLabel, privateLabel]) if (label.length < 1 || label.length > 127) throw new CliError('Invalid label: 1 to 127 characters');
    const keys = (data.keys ??= []);
    if (keys.length + 2 > MAX_KEYS[cluster.hsmType]) throw new CliError(`The cluster already holds the maximum of ${MAX_KEYS[cluster.hsmType]} keys`);
    const asymmetric = keys.filter((k) => k.attributes['key-type'] === 'ec' || k.attributes['key-type'] === 'rsa').length;
    if (asymmetric + 2 > MAX_ASYMMETRIC_KEYS[cluster.hsmType]) {
      throw new CliError(`The cluster already holds the maximum of ${MAX_ASYMMETRIC_KEYS[cluster.hsmType]} asymmetric keys`);
    }
    const { pair, typeAttributes } = kind === 'ec' ? ecPair(flags) : rsaPair(flags);
    const common = { 'key-type': kind, id: '0x', ...typeAttributes, token: !flags.has('session'), local: true, trusted: false, destroyable: true, modifiable: true };
    const privateAttributes: KeyAttributes = {
      ...common,
      label: privateLabel,
      class: 'private-key',
      decrypt: false,
      derive: false,
      sign: false,
      unwrap: false,
      extractable: true,
      'never-extractable': false,
      'always-sensitive': true,
      sensitive: true,
      private: true,
      'wrap-with-trusted': false,
    };
    const publicAttributes: KeyAttributes = { ...common, label: publicLabel, class: 'public-key', encrypt: false, verify: false, wrap: false, derive: false, private: false };
    applyBooleanAttributes(privateAttributes, flags.get('private-attributes') ?? []);
    applyBooleanAttributes(publicAttributes, flags.get('public-attributes') ?? []);
    privateAttributes['never-extractable'] = privateAttributes['extractable'] === false;
    const publicKey: HsmKeyRecord = { ref: nextRef(data), owner: owner.username, sharedWith: [], attributes: publicAttributes, sealed: sealMaterial(data, pair.publicKey.export({ type: 'spki', format: 'der' })) };
    const sharees = (flags.get('share-crypto-users') ?? []).map((u) => this.cryptoUser(data, u).username).filter((u) => u !== owner.username);
    const privateKey: HsmKeyRecord = {
      ref: nextRef(data, 1),
      owner: owner.username,
      sharedWith: sharees,
      attributes: privateAttributes,
      sealed: sealMaterial(data, pair.privateKey.export({ type: 'pkcs8', format: 'der' })),
    };
    this.storeKeys(data, cluster.clusterId, [publicKey, privateKey]);
    return { public_key: keyJson(publicKey, true), private_key: keyJson(privateKey, true) };
  }

  /**
   * `key generate-file --encoding pem --path F --filter ...`: writes a public key as PEM
   * (SubjectPublicKeyInfo) to a file on the caller's machine.
   */
  private generateFile(flags: Flags, env: CliRequest['env'], files: { path: string; content: string }[]) {
    const { data } = this.hsmData(flags);
    const user = this.login(data, env, ['crypto-user']);
    const encoding = one(flags, 'encoding') ?? '';
    if (encoding !== 'pem') throw new CliError(encoding === 'reference-pem' ? 'cloudhsm-local writes pem files only (reference-pem is not emulated)' : `invalid value '${encoding}' for '--encoding': expected pem or reference-pem`);
    const path = one(flags, 'path') ?? '';
    const key = this.singleKey(data, flags, user);
    if (key.attributes['class'] !== 'public-key') throw new CliError('Only public keys can be written as pem: private keys stay in the HSM');
    const pem = createPublicKey({ key: unsealMaterial(data, key.sealed), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();
    files.push({ path, content: pem });
    return { message: 'Successfully generated key file' };
  }

  /**
   * `key import pem --path F --label L --key-type-class rsa-public|ec-public [--attributes ...]`:
   * a public key from outside (e.g. a KMS import wrapping key), local=false, visible to every
   * crypto user. The executable reads the file and sends it base64-encoded as --pem-base64
   * (a PEM's text starts with dashes, which would read as an option).
   */
  private importPem(flags: Flags, env: CliRequest['env']) {
    const { cluster, data } = this.hsmData(flags);
    const owner = this.login(data, env, ['crypto-user']);
    this.assertWritable(cluster);
    const label = one(flags, 'label') ?? '';
    if (label.length < 1 || label.length > 127) throw new CliError('Invalid label: 1 to 127 characters');
    const keyClass = one(flags, 'key-type-class') ?? '';
    if (keyClass !== 'rsa-public' && keyClass !== 'ec-public') throw new CliError(`invalid value '${keyClass}' for '--key-type-class': expected rsa-public or ec-public`);
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey({ key: Buffer.from(one(flags, 'pem-base64') ?? '', 'base64').toString('utf8'), format: 'pem' });
    } catch {
      throw new CliError('The file is not a PEM-encoded public key');
    }
    if (publicKey.asymmetricKeyType !== keyClass.split('-')[0]) throw new CliError(`The PEM key is not an ${keyClass} key`);
    const attributes: KeyAttributes = {
      'key-type': publicKey.asymmetricKeyType ?? '',
      label,
      id: '0x',
      class: 'public-key',
      encrypt: false,
      verify: false,
      wrap: false,
      derive: false,
      token: true,
      local: false,
      trusted: false,
      destroyable: true,
      modifiable: true,
      private: false,
      ...(publicKey.asymmetricKeyType === 'rsa'
        ? { 'modulus-size-bits': publicKey.asymmetricKeyDetails?.modulusLength ?? 0, 'public-exponent': `0x${(publicKey.asymmetricKeyDetails?.publicExponent ?? 0n).toString(16)}` }
        : {}),
    };
    applyBooleanAttributes(attributes, flags.get('attributes') ?? []);
    const key: HsmKeyRecord = {
      ref: nextRef(data),
      owner: owner.username,
      sharedWith: [],
      attributes,
      sealed: sealMaterial(data, publicKey.export({ type: 'spki', format: 'der' })),
    };
    this.storeKeys(data, cluster.clusterId, [key]);
    return { key: keyJson(key, true) };
  }

  /**
   * `key wrap rsa-aes|rsa-oaep --payload-filter ... --wrapping-filter ... --hash-function H --mgf M`:
   * only the payload's owner wraps, only extractable payloads, only with a key whose wrap is
   * true. rsa-aes is CKM_RSA_AES_KEY_WRAP: RSA-OAEP of an ephemeral AES-256 key, then AES key
   * wrap with padding (RFC 5649) of the payload (PKCS#8 for private keys, raw for secret keys).
   */
  private wrap(mechanism: string, flags: Flags, env: CliRequest['env']) {
    if (!['rsa-aes', 'rsa-oaep', 'aes-gcm', 'aes-zero-pad'].includes(mechanism)) throw new CliError(`cloudhsm-local wraps with rsa-aes, rsa-oaep, aes-gcm and aes-zero-pad, not ${mechanism}`);
    const { data } = this.hsmData(flags);
    const user = this.login(data, env, ['crypto-user']);
    const payload = this.singleKey(data, flags, user, 'payload-filter');
    const wrapping = this.singleKey(data, flags, user, 'wrapping-filter');
    if (payload.owner !== user.username) throw new CliError('Only the owner of the payload key can wrap it');
    if (payload.attributes['extractable'] !== true) throw new CliError('The payload key is not extractable');
    if (payload.attributes['class'] === 'public-key') throw new CliError('Public keys are not wrapped: export them instead');
    const material = unsealMaterial(data, payload.sealed);
    if (mechanism === 'aes-zero-pad') {
      if (wrapping.attributes['key-type'] !== 'aes' || wrapping.attributes['wrap'] !== true || wrapping.owner !== user.username) {
        throw new CliError('The wrapping key must be an AES key of yours with wrap=true');
      }
      // AES key wrap with padding (RFC 5649): the alternative IV A65959A6 and the payload's length.
      const kwp = createCipheriv(`id-aes${Number(wrapping.attributes['key-length-bytes']) * 8}-wrap-pad`, unsealMaterial(data, wrapping.sealed), Buffer.from('a65959a6', 'hex'));
      const wrapped = Buffer.concat([kwp.update(material), kwp.final()]);
      return { payload_key_reference: payload.ref, wrapping_key_reference: wrapping.ref, wrapped_key_data: wrapped.toString('base64') };
    }
    if (mechanism === 'aes-gcm') {
      if (wrapping.attributes['key-type'] !== 'aes' || wrapping.attributes['wrap'] !== true || wrapping.owner !== user.username) {
        throw new CliError('The wrapping key must be an AES key of yours with wrap=true');
      }
      const { aad, tagBytes } = gcmOptions(flags);
      // The HSM chooses the IV (as CloudHSM does for AES-GCM) and returns it.
      const iv = randomBytes(12);
      const cipher: CipherGCM = createCipheriv(gcmCipher(wrapping), unsealMaterial(data, wrapping.sealed), iv, { authTagLength: tagBytes });
      cipher.setAAD(aad);
      const wrapped = Buffer.concat([cipher.update(material), cipher.final(), cipher.getAuthTag()]);
      // aes-gcm prints underscores where rsa-aes prints hyphens, as the real CLI does.
      return { payload_key_reference: payload.ref, wrapping_key_reference: wrapping.ref, iv: `0x${iv.toString('hex')}`, wrapped_key_data: wrapped.toString('base64') };
    }
    if (wrapping.attributes['key-type'] !== 'rsa' || wrapping.attributes['class'] !== 'public-key' || wrapping.attributes['wrap'] !== true) {
      throw new CliError('The wrapping key must be an RSA public key with wrap=true');
    }
    const hash = oaepHash(flags);
    const wrappingKey = createPublicKey({ key: unsealMaterial(data, wrapping.sealed), format: 'der', type: 'spki' });
    const oaep = (value: Buffer) => publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, value);
    let wrapped: Buffer;
    if (mechanism === 'rsa-oaep') {
      try {
        wrapped = oaep(material);
      } catch {
        throw new CliError('The payload is too large for rsa-oaep: use rsa-aes');
      }
    } else {
      const aesKey = randomBytes(32);
      const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
      wrapped = Buffer.concat([oaep(aesKey), kwp.update(material), kwp.final()]);
    }
    // rsa-aes and rsa-oaep print hyphenated field names (aes-gcm uses underscores).
    return { 'payload-key-reference': payload.ref, 'wrapping-key-reference': wrapping.ref, 'wrapped-key-data': wrapped.toString('base64') };
  }

  /**
   * `key unwrap rsa-aes|rsa-oaep --filter <unwrapping key> --hash-function H --mgf M
   * --key-type-class aes|generic-secret|ec-private|rsa-private --label L --data B64`: the
   * owner of an RSA private key with unwrap=true unwraps; the result is its key, local=false.
   */
  private unwrap(mechanism: string, flags: Flags, env: CliRequest['env']) {
    if (!['rsa-aes', 'rsa-oaep', 'aes-gcm', 'aes-zero-pad'].includes(mechanism)) throw new CliError(`cloudhsm-local unwraps with rsa-aes, rsa-oaep, aes-gcm and aes-zero-pad, not ${mechanism}`);
    const { cluster, data } = this.hsmData(flags);
    const owner = this.login(data, env, ['crypto-user']);
    this.assertWritable(cluster);
    const unwrapping = this.singleKey(data, flags, owner);
    if (unwrapping.owner !== owner.username) throw new CliError('Only the owner of the unwrapping key can unwrap with it');
    const keyClass = one(flags, 'key-type-class') ?? '';
    if (!['aes', 'des3', 'generic-secret', 'ec-private', 'rsa-private'].includes(keyClass)) throw new CliError(`invalid value '${keyClass}' for '--key-type-class'`);
    // FIPS mode refuses 3DES keys: they move to a NON_FIPS cluster instead.
    if (keyClass === 'des3' && cluster.mode === 'FIPS') throw new CliError('3DES keys are not allowed on a cluster in FIPS mode: unwrap them on a NON_FIPS cluster');
    const label = one(flags, 'label') ?? '';
    if (label.length < 1 || label.length > 127) throw new CliError('Invalid label: 1 to 127 characters');
    const blob = Buffer.from(one(flags, 'data') ?? '', 'base64');
    let material: Buffer;
    if (mechanism === 'aes-zero-pad') {
      if (unwrapping.attributes['key-type'] !== 'aes' || unwrapping.attributes['unwrap'] !== true) throw new CliError('The unwrapping key must be an AES key with unwrap=true');
      try {
        const kwp = createDecipheriv(`id-aes${Number(unwrapping.attributes['key-length-bytes']) * 8}-wrap-pad`, unsealMaterial(data, unwrapping.sealed), Buffer.from('a65959a6', 'hex'));
        material = Buffer.concat([kwp.update(blob), kwp.final()]);
      } catch {
        throw new CliError('Unwrap failed: the data does not decrypt with this key and mechanism');
      }
    } else if (mechanism === 'aes-gcm') {
      if (unwrapping.attributes['key-type'] !== 'aes' || unwrapping.attributes['unwrap'] !== true) throw new CliError('The unwrapping key must be an AES key with unwrap=true');
      const { aad, tagBytes } = gcmOptions(flags);
      const iv = Buffer.from((one(flags, 'iv') ?? '').replace(/^0x/, ''), 'hex');
      try {
        const decipher: DecipherGCM = createDecipheriv(gcmCipher(unwrapping), unsealMaterial(data, unwrapping.sealed), iv, { authTagLength: tagBytes });
        decipher.setAAD(aad);
        decipher.setAuthTag(blob.subarray(blob.length - tagBytes));
        material = Buffer.concat([decipher.update(blob.subarray(0, blob.length - tagBytes)), decipher.final()]);
      } catch {
        throw new CliError('Unwrap failed: the data does not decrypt with this key and mechanism');
      }
    } else {
      if (unwrapping.attributes['key-type'] !== 'rsa' || unwrapping.attributes['class'] !== 'private-key' || unwrapping.attributes['unwrap'] !== true) {
        throw new CliError('The unwrapping key must be an RSA private key with unwrap=true');
      }
      const hash = oaepHash(flags);
      const privateKey = createPrivateKey({ key: unsealMaterial(data, unwrapping.sealed), format: 'der', type: 'pkcs8' });
      const rsa = (value: Buffer) => privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, value);
      try {
        if (mechanism === 'rsa-oaep') material = rsa(blob);
        else {
          const modulusBytes = (privateKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
          const aesKey = rsa(blob.subarray(0, modulusBytes));
          const kwp = createDecipheriv(`id-aes${aesKey.length * 8}-wrap-pad`, aesKey, Buffer.from('a65959a6', 'hex'));
          material = Buffer.concat([kwp.update(blob.subarray(modulusBytes)), kwp.final()]);
        }
      } catch {
        throw new CliError('Unwrap failed: the data does not decrypt with this key and mechanism');
      }
    }
    const attributes = unwrappedAttributes(keyClass, label, material);
    applyBooleanAttributes(attributes, flags.get('attributes') ?? []);
    const sharees = (flags.get('share-crypto-users') ?? []).map((u) => this.cryptoUser(data, u).username).filter((u) => u !== owner.username);
    const key: HsmKeyRecord = {
      ref: nextRef(data),
      owner: owner.username,
      sharedWith: sharees,
      attributes,
      sealed: sealMaterial(data, material),
    };
    this.storeKeys(data, cluster.clusterId, [key]);
    return { key: keyJson(key, true) };
  }

  /**
   * `key set-attribute --filter ... --name N --value V`: the owner changes a modifiable key's
   * attribute (`modifiable` only from true to false; `id` only on hsm2m); only an admin sets
   * `trusted`. The key's token objects are replaced with the new attributes.
   */
  private setAttribute(flags: Flags, env: CliRequest['env']) {
    const { cluster, data } = this.hsmData(flags);
    const user = this.login(data, env, ['crypto-user', 'admin']);
    this.assertWritable(cluster);
    const name = one(flags, 'name') ?? '';
    const value = one(flags, 'value') ?? '';
    const key = this.singleKey(data, flags, user);
    if (name === 'trusted') {
      if (user.role !== 'admin') throw new CliError('Only an admin can set the trusted attribute');
    } else {
      if (user.role === 'admin' || key.owner !== user.username) throw new CliError('Only the key owner can set attributes');
      if (key.attributes['modifiable'] !== true) throw new CliError('The key is not modifiable');
    }
    const current = key.attributes[name];
    let next: string | boolean;
    if (name === 'label') {
      if (value.length < 1 || value.length > 127) throw new CliError('Invalid label: 1 to 127 characters');
      next = value;
    } else if (name === 'id') {
      if (cluster.hsmType !== 'hsm2m.medium') throw new CliError('The id attribute can be set on hsm2m.medium clusters only');
      if (!/^0x([0-9a-fA-F]{2})*$/.test(value)) throw new CliError('Invalid id: 0x followed by hexadecimal bytes');
      next = value.toLowerCase();
    } else {
      if (typeof current !== 'boolean' || ['class', 'local', 'always-sensitive', 'never-extractable', 'key-type'].includes(name)) throw new CliError(`The attribute ${name} cannot be set`);
      if (value !== 'true' && value !== 'false') throw new CliError(`Invalid value for ${name}: true or false`);
      next = value === 'true';
      if (name === 'modifiable' && next) throw new CliError('modifiable can only be changed from true to false');
      if (name === 'extractable' && next && key.attributes['never-extractable'] === true) throw new CliError('A key that was never extractable cannot become extractable');
    }
    const updated: HsmKeyRecord = { ...key, attributes: { ...key.attributes, [name]: next } };
    for (const username of new Set(holdersOf(data, key))) offerKey(data, cluster.clusterId, updated, username, this.listener);
    key.attributes = updated.attributes;
    return { message: 'Attribute set successfully' };
  }

  /**
   * `crypto sign ecdsa|rsa-pkcs|rsa-pkcs-pss`: the key's owner or a sharee signs with a private key whose `sign` is true;
   * `--data-type digest` signs a hash the caller computed (same signature as signing the message raw).
   */
  private cryptoSign(mechanism: string, flags: Flags, env: CliRequest['env']) {
    const { chosen, key, data, hash, message, isDigest, options } = this.cryptoInput(mechanism, flags, env);
    if (key.attributes['class'] !== 'private-key' || key.attributes['sign'] !== true) throw new CliError('The key does not allow signing (sign=false or not a private key)');
    const privateKey = createPrivateKey({ key: unsealMaterial(data, key.sealed), format: 'der', type: 'pkcs8' });
    const signature = isDigest ? signDigest(chosen, privateKey, hash, message) : sign(hash, message, { key: privateKey, ...options });
    return { 'key-reference': key.ref, signature: signature.toString('base64') };
  }

  /** `crypto verify ecdsa|rsa-pkcs|rsa-pkcs-pss` with a public key (or the private key of the pair). */
  private cryptoVerify(mechanism: string, flags: Flags, env: CliRequest['env']) {
    const { chosen, key, data, hash, message, isDigest, options } = this.cryptoInput(mechanism, flags, env);
    const signature = Buffer.from(one(flags, 'signature') ?? '', 'base64');
    const material = unsealMaterial(data, key.sealed);
    const publicKey: KeyObject =
      key.attributes['class'] === 'public-key' ? createPublicKey({ key: material, format: 'der', type: 'spki' }) : createPublicKey(createPrivateKey({ key: material, format: 'der', type: 'pkcs8' }));
    // verifyDigest reports a malformed signature as invalid itself; its other errors (an unsupported curve) are refusals.
    const valid = isDigest ? verifyDigest(chosen, publicKey, hash, message, signature) : verifyRaw(hash, message, { key: publicKey, ...options }, signature);
    if (!valid) throw new CliError('Signature verification failed');
    return { message: 'Signature verified successfully' };
  }

  private cryptoInput(mechanism: string, flags: Flags, env: CliRequest['env']) {
    const mechanisms: Record<CliSignatureMechanism, { keyType: string; options: { dsaEncoding?: 'ieee-p1363'; padding?: number; saltLength?: number } }> = {
      // PKCS#11 CKM_ECDSA's signature format: r || s, each the size of the curve order.
      ecdsa: { keyType: 'ec', options: { dsaEncoding: 'ieee-p1363' } },
      'rsa-pkcs': { keyType: 'rsa', options: { padding: constants.RSA_PKCS1_PADDING } },
      'rsa-pkcs-pss': { keyType: 'rsa', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } },
    };
    if (!isMechanism(mechanism, mechanisms)) throw new CliError(`unrecognized subcommand '${mechanism}': expected ecdsa, rsa-pkcs or rsa-pkcs-pss`);
    const { keyType, options } = mechanisms[mechanism];
    const { data } = this.hsmData(flags);
    const user = this.login(data, env, ['crypto-user']);
    const key = this.singleKey(data, flags, user, 'key-filter');
    if (key.attributes['key-type'] !== keyType) throw new CliError(`${mechanism} needs an ${keyType.toUpperCase()} key`);
    const hash = one(flags, 'hash-function') ?? '';
    if (!isCliHash(hash)) throw new CliError(`invalid value '${hash}' for '--hash-function': expected sha1, sha224, sha256, sha384 or sha512`);
    const dataType = one(flags, 'data-type', false) ?? 'raw';
    if (dataType !== 'raw' && dataType !== 'digest') throw new CliError(`invalid value '${dataType}' for '--data-type': expected raw or digest`);
    const message = Buffer.from(one(flags, 'data') ?? '', 'base64');
    if (message.length === 0) throw new CliError('--data must be base64 of at least one byte');
    // With digest, --data is the hash the caller computed: it must be that hash's size.
    if (dataType === 'digest' && message.length !== DIGEST_LENGTHS[hash]) {
      throw new CliError(`--data-type digest needs a ${hash} digest of ${DIGEST_LENGTHS[hash]} bytes, got ${message.length} bytes`);
    }
    return { chosen: mechanism, key, data, hash, message, isDigest: dataType === 'digest', options };
  }

  /**
   * Copies a key to another cluster, as `key replicate` does: only between clones (one
   * restored from the other's backup, or both from a common one), with the owner and the
   * sharees existing on the destination; DESTINATION_CLOUDHSM_* log in there.
   */
  private keyReplicate(flags: Flags, env: CliRequest['env']) {
    const source = this.hsm.findCluster(one(flags, 'source-cluster-id') ?? '');
    const destination = this.hsm.findCluster(one(flags, 'destination-cluster-id') ?? '');
    if (!source) throw new CliError(`Cluster ${one(flags, 'source-cluster-id') ?? ''} is not configured`);
    if (!destination) throw new CliError(`Cluster ${one(flags, 'destination-cluster-id') ?? ''} is not configured`);
    const from = (source.cluster.hsm ??= newClusterHsmData(source.cluster.clusterId));
    const to = (destination.cluster.hsm ??= newClusterHsmData(destination.cluster.clusterId));
    const user = this.login(from, env, ['crypto-user']);
    this.login(to, { CLOUDHSM_ROLE: env['DESTINATION_CLOUDHSM_ROLE'], CLOUDHSM_PIN: env['DESTINATION_CLOUDHSM_PIN'] }, ['crypto-user']);
    this.assertWritable(destination.cluster);
    if (from.lineage !== to.lineage) throw new CliError('Key replicate failed: the destination cluster is not a clone of the source cluster');
    const key = this.singleKey(from, flags, user);
    for (const name of [key.owner, ...key.sharedWith]) this.cryptoUser(to, name);
    if ((to.keys ?? []).some((k) => k.ref === key.ref)) throw new CliError(`Key ${key.ref} already exists on the destination cluster`);
    const copy: HsmKeyRecord = { ...key, sharedWith: [...key.sharedWith], attributes: { ...key.attributes }, sealed: sealMaterial(to, unsealMaterial(from, key.sealed)) };
    this.storeKeys(to, destination.cluster.clusterId, [copy]);
    return { key: keyJson(copy, true), message: 'Successfully replicated key' };
  }

  /**
   * Records new keys: each is offered to every token that holds it (owner, sharees, and every
   * crypto user for a public key), all or nothing (if one token refuses, the copies already
   * made are withdrawn and nothing is recorded); then the keys are stored and the next key
   * reference moves past them.
   */
  private storeKeys(data: ClusterHsmData, clusterId: string, keys: readonly HsmKeyRecord[]): void {
    const offered: { username: string; ref: string }[] = [];
    try {
      for (const key of keys) {
        for (const username of new Set(holdersOf(data, key))) {
          offerKey(data, clusterId, key, username, this.listener);
          offered.push({ username, ref: key.ref });
        }
      }
    } catch (err) {
      for (const { username, ref } of offered) this.listener.apply({ kind: 'key-withdrawn', clusterId, username, ref });
      throw err;
    }
    (data.keys ??= []).push(...keys);
    const highest = Math.max(...keys.map((k) => Number.parseInt(k.ref.slice(2), 16)));
    data.nextKeyRef = Math.max(data.nextKeyRef ?? 1, highest + 1);
  }

  /** Keys the user sees (owned or shared with it) that match every `--filter`. */
  private filter(data: ClusterHsmData, flags: Flags, user: HsmUserRecord): HsmKeyRecord[] {
    const criteria = (flags.get('filter') ?? []).map((f) => {
      const at = f.indexOf('=');
      if (at < 1) throw new CliError(`Invalid filter ${f}: expected key-reference=0x... or attr.<name>=<value>`);
      return { name: f.slice(0, at), value: f.slice(at + 1) };
    });
    return (data.keys ?? []).filter(
      (k) =>
        (user.role === 'admin' || k.owner === user.username || k.sharedWith.includes(user.username) || k.attributes['class'] === 'public-key') &&
        criteria.every(({ name, value }) => {
          if (name === 'key-reference') return k.ref === value.toLowerCase();
          if (!name.startsWith('attr.')) throw new CliError(`Invalid filter ${name}: expected key-reference or attr.<name>`);
          const actual = k.attributes[name.slice(5)];
          return actual !== undefined && String(actual) === value;
        }),
    );
  }

  private singleKey(data: ClusterHsmData, flags: Flags, user: HsmUserRecord, filterFlag = 'filter'): HsmKeyRecord {
    const matches = this.filter(data, filterFlag === 'filter' ? flags : new Map([['filter', flags.get(filterFlag) ?? []]]), user);
    if (matches.length === 0) throw new CliError('Key selection criteria matched 0 keys. Refine selection criteria to select a single key.');
    if (matches.length > 1) throw new CliError(`Key selection criteria matched ${matches.length} keys. Refine selection criteria to select a single key.`);
    return matches[0] as HsmKeyRecord;
  }

  private cryptoUser(data: ClusterHsmData, name: string): HsmUserRecord {
    const user = data.users.find((u) => u.username === name.toLowerCase() && u.role === 'crypto-user');
    if (!user) throw new CliError(`Crypto user ${name} does not exist`);
    return user;
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

  /** CloudHSM refuses to change or delete a crypto user while that user is logged in. */
  private assertLoggedOut(cluster: ClusterRecord, user: HsmUserRecord, action: string): void {
    if (user.role === 'crypto-user' && this.logins.isLoggedIn(cluster.clusterId, user.username)) {
      throw new CliError(`User ${user.username} is logged in: log out all of its sessions before ${action}`);
    }
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

/** The reference the cluster's next key gets (plus `offset`): `0x` and 16 hex digits, as cloudhsm-cli prints them. */
function nextRef(data: ClusterHsmData, offset = 0): string {
  return `0x${((data.nextKeyRef ?? 1) + offset).toString(16).padStart(16, '0')}`;
}

/** EC curves cloudhsm-local generates (cloudhsm-cli name -> Node name). */
const EC_CURVES: Record<string, { node: string }> = {
  secp256r1: { node: 'prime256v1' },
  prime256v1: { node: 'prime256v1' },
  secp384r1: { node: 'secp384r1' },
  secp521r1: { node: 'secp521r1' },
  secp256k1: { node: 'secp256k1' },
};

/** A new EC pair and its type attributes (`curve`, `ec-point`). */
function ecPair(flags: Flags): { pair: { publicKey: KeyObject; privateKey: KeyObject }; typeAttributes: KeyAttributes } {
  const curveName = one(flags, 'curve') ?? '';
  const curve = EC_CURVES[curveName];
  if (!curve) throw new CliError(`Curve ${curveName} is not supported by cloudhsm-local (use ${Object.keys(EC_CURVES).join(', ')})`);
  const pair = generateKeyPairSync('ec', { namedCurve: curve.node });
  return { pair, typeAttributes: { curve: curveName === 'prime256v1' ? 'secp256r1' : curveName, 'ec-point': ecPointOf(pair.publicKey) } };
}

/** A new RSA pair (at least 2048 bits, exponent at least 65537, as CloudHSM requires). */
function rsaPair(flags: Flags): { pair: { publicKey: KeyObject; privateKey: KeyObject }; typeAttributes: KeyAttributes } {
  const bits = Number(one(flags, 'modulus-size-bits'));
  const exponent = Number(one(flags, 'public-exponent'));
  if (!Number.isInteger(bits) || bits < 2048 || bits > 8192 || bits % 256 !== 0) throw new CliError('Invalid --modulus-size-bits: 2048 to 8192, a multiple of 256');
  if (!Number.isInteger(exponent) || exponent < 65537 || exponent % 2 === 0) throw new CliError('Invalid --public-exponent: an odd number of at least 65537');
  const pair = generateKeyPairSync('rsa', { modulusLength: bits, publicExponent: exponent });
  return { pair, typeAttributes: rsaAttributes(pair.publicKey) };
}

/**
 * The uncompressed point (`0x04...`) of an EC public key, read from its SubjectPublicKeyInfo:
 * SEQUENCE { SEQUENCE { algorithm, curve }, BIT STRING { unused-bits byte, point } }. (A JWK
 * export would be shorter but Node refuses it for curves JWK does not name, e.g. secp224r1.)
 */
function ecPointOf(publicKey: KeyObject): string {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const outer = derLength(spki, 1);
  const algorithm = derLength(spki, outer.start + 1);
  const bitString = derLength(spki, algorithm.start + algorithm.length + 1);
  return `0x${spki.subarray(bitString.start + 1, bitString.start + bitString.length).toString('hex')}`;
}

/** A DER length at `at` (just after a tag): its value and where the content starts. */
function derLength(der: Buffer, at: number): { length: number; start: number } {
  const first = der[at] ?? 0;
  if (first < 0x80) return { length: first, start: at + 1 };
  const bytes = first & 0x7f;
  return { length: der.readUIntBE(at + 1, bytes), start: at + 1 + bytes };
}

function rsaAttributes(publicKey: KeyObject): KeyAttributes {
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    modulus: `0x${Buffer.from(jwk.n ?? '', 'base64url').toString('hex')}`,
    'modulus-size-bits': publicKey.asymmetricKeyDetails?.modulusLength ?? 0,
    'public-exponent': `0x${Buffer.from(jwk.e ?? '', 'base64url').toString('hex')}`,
  };
}

/** Attributes of an unwrapped key (local=false, as CloudHSM marks keys that came from outside). */
function unwrappedAttributes(keyClass: string, label: string, material: Buffer): KeyAttributes {
  const common: KeyAttributes = { label, id: '0x', token: true, local: false, trusted: false, destroyable: true, modifiable: true, extractable: true, 'never-extractable': false, sensitive: true, private: true, derive: false };
  if (keyClass === 'aes' || keyClass === 'generic-secret' || keyClass === 'des3') {
    if (keyClass === 'aes' && ![16, 24, 32].includes(material.length)) throw new CliError('Unwrap failed: the data is not an AES key');
    if (keyClass === 'des3' && material.length !== 24) throw new CliError('Unwrap failed: the data is not a 3DES key');
    return {
      ...common,
      'key-type': keyClass,
      class: 'secret-key',
      encrypt: false,
      decrypt: false,
      sign: false,
      verify: false,
      wrap: false,
      unwrap: false,
      'key-length-bytes': material.length,
      ...(keyClass === 'aes' ? { 'check-value': checkValue(material) } : {}),
    };
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
  } catch {
    throw new CliError(`Unwrap failed: the data is not a PKCS#8 ${keyClass} key`);
  }
  const type = keyClass === 'ec-private' ? 'ec' : 'rsa';
  if (privateKey.asymmetricKeyType !== type) throw new CliError(`Unwrap failed: the data is not a PKCS#8 ${keyClass} key`);
  const publicKey = createPublicKey(privateKey);
  const typeAttributes: KeyAttributes =
    type === 'ec' ? { curve: CURVE_NAMES[privateKey.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'unknown', 'ec-point': ecPointOf(publicKey) } : rsaAttributes(publicKey);
  return { ...common, 'key-type': type, class: 'private-key', ...typeAttributes, sign: false, decrypt: false, unwrap: false, 'always-sensitive': false };
}

/** `--hash-function H --mgf mgf1-H` of the RSA-OAEP mechanisms (one hash for both). */
function oaepHash(flags: Flags): string {
  const hash = (one(flags, 'hash-function') ?? '').toLowerCase();
  if (!['sha1', 'sha224', 'sha256', 'sha384', 'sha512'].includes(hash)) throw new CliError(`invalid value '${hash}' for '--hash-function'`);
  if (one(flags, 'mgf') !== `mgf1-${hash}`) throw new CliError(`--mgf must be mgf1-${hash} with --hash-function ${hash} (cloudhsm-local uses one hash for OAEP and MGF1)`);
  return hash;
}

function gcmCipher(key: HsmKeyRecord): CipherGCMTypes {
  return ({ 16: 'aes-128-gcm', 24: 'aes-192-gcm', 32: 'aes-256-gcm' } as const)[Number(key.attributes['key-length-bytes']) as 16 | 24 | 32];
}

/** `--aad <hex>` and `--tag-length-bits` (96-128, default 128) of aes-gcm. */
function gcmOptions(flags: Flags): { aad: Buffer; tagBytes: number } {
  const bits = Number(one(flags, 'tag-length-bits', false) ?? '128');
  if (![96, 104, 112, 120, 128].includes(bits)) throw new CliError('Invalid --tag-length-bits: 96, 104, 112, 120 or 128');
  const aad = one(flags, 'aad', false) ?? '';
  if (!/^(0x)?([0-9a-fA-F]{2})*$/.test(aad)) throw new CliError('Invalid --aad: hexadecimal bytes');
  return { aad: Buffer.from(aad.replace(/^0x/, ''), 'hex'), tagBytes: bits / 8 };
}

/** Node's curve names -> cloudhsm-cli's. */
const CURVE_NAMES: Record<string, string> = { prime256v1: 'secp256r1', secp224r1: 'secp224r1', secp384r1: 'secp384r1', secp521r1: 'secp521r1', secp256k1: 'secp256k1' };

/** Applies `name=true|false` assignments to boolean attributes the key already has. */
function applyBooleanAttributes(attributes: KeyAttributes, assignments: readonly string[]): void {
  for (const assignment of assignments) {
    const [name = '', value = ''] = assignment.split('=');
    if (typeof attributes[name] !== 'boolean' || ['class', 'local', 'trusted', 'always-sensitive', 'never-extractable'].includes(name) || !['true', 'false'].includes(value)) {
      throw new CliError(`Invalid attribute ${name}: expected <attribute>=true|false`);
    }
    attributes[name] = value === 'true';
  }
}

/** The JSON cloudhsm-cli prints for a key; without --verbose only the reference and label. */
function keyJson(key: HsmKeyRecord, verbose: boolean) {
  if (!verbose) return { 'key-reference': key.ref, attributes: { label: key.attributes['label'] } };
  const coverage = (username: string) => ({ username, 'key-coverage': 'full' });
  return {
    'key-reference': key.ref,
    'key-info': {
      'key-owners': [coverage(key.owner)],
      'shared-users': key.sharedWith.map(coverage),
      'key-quorum-values': { 'manage-key-quorum-value': 0, 'use-key-quorum-value': 0 },
      'cluster-coverage': 'full',
    },
    attributes: { ...key.attributes },
  };
}

/** Key check value: the first 3 bytes of the key's encryption of a zero block. */
function checkValue(aesKey: Buffer): string {
  const cipher = createCipheriv(`aes-${aesKey.length * 8}-ecb`, aesKey, null);
  return `0x${Buffer.concat([cipher.update(Buffer.alloc(16)), cipher.final()]).subarray(0, 3).toString('hex')}`;
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

function isMechanism<T extends string>(name: string, table: Readonly<Record<T, unknown>>): name is T {
  return Object.hasOwn(table, name);
}

/** node:crypto's verify, with a malformed signature (wrong length, bad encoding) reported as invalid. */
function verifyRaw(hash: string, message: Buffer, key: Parameters<typeof verify>[2], signature: Buffer): boolean {
  try {
    return verify(hash, message, key, signature);
  } catch {
    return false;
  }
}
