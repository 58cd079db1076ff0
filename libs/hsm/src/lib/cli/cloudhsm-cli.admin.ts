import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HsmException, HsmExceptionCode } from '../hsm.exception';
import type { CliLogin, CloudHsmCliRunner } from './cloudhsm-cli.runner';

/** A key as cloudhsm-cli describes it (`key list --verbose`). */
export interface CliKey {
  /** `0x...`: the key's reference on its cluster. */
  readonly reference: string;
  readonly label: string;
  /** `secret-key`, `private-key` or `public-key`. */
  readonly keyClass: string;
  /** `aes`, `generic-secret`, `ec`, `rsa`, `des3`. */
  readonly keyType: string;
  readonly owners: readonly string[];
  readonly sharedWith: readonly string[];
  /** Every attribute the CLI printed (`encrypt`, `extractable`, `check-value`, `curve`...): no key material. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

export interface CliUser {
  readonly username: string;
  readonly role: string;
}

/** Boolean key attributes as cloudhsm-cli takes them (`encrypt=true`). */
export type CliAttributes = Readonly<Record<string, boolean>>;

/** Wrapping mechanisms (cloudhsm-cli `key wrap <mechanism>`). `aes-zero-pad` is AES key wrap with padding, RFC 5649. */
export type WrapMechanism = 'rsa-aes' | 'rsa-oaep' | 'aes-zero-pad' | 'aes-gcm';
export type WrapHash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';
export type UnwrapKeyClass = 'aes' | 'generic-secret' | 'ec-private' | 'rsa-private' | 'des3';

/** A key selection: by reference, or by attributes (all must match), as `--filter` takes it. */
export type KeyFilter = { readonly reference: string } | { readonly label: string; readonly keyClass?: 'secret-key' | 'private-key' | 'public-key' };

/**
 * The admin plane of one cluster through cloudhsm-cli: what PKCS#11 cannot do (users,
 * sharing, replication) and key management that must stay visible to the CLI (generation,
 * deletion, wrap and unwrap). Every method runs one command as the given user; passwords go
 * to the CLI in its environment or as the value of `--password`, never into errors.
 */
export class CloudHsmCliAdmin {
  constructor(
    private readonly cli: CloudHsmCliRunner,
    /** The CloudHSM cluster id (`cluster-...`), passed as `--cluster-id`. */
    readonly clusterId: string,
  ) {}

  /** `key generate-symmetric aes|generic-secret`: a token key owned by `login`, shared with `shareWith`. */
  async generateSymmetric(
    login: CliLogin,
    spec: { readonly type: 'aes' | 'generic-secret'; readonly label: string; readonly lengthBytes: number; readonly attributes: CliAttributes; readonly shareWith?: readonly string[] },
  ): Promise<CliKey> {
    const data = await this.run(login, ['key', 'generate-symmetric', spec.type, '--label', spec.label, '--key-length-bytes', String(spec.lengthBytes), ...attributeArgs('--attributes', spec.attributes), ...shareArgs(spec.shareWith)]);
    return parseKey(field(data, 'key'));
  }

  /** `key generate-asymmetric-pair ec|rsa`: both halves, the private key owned by `login`. */
  async generateKeyPair(
    login: CliLogin,
    spec: ({ readonly type: 'ec'; readonly curve: 'secp256r1' | 'secp384r1' } | { readonly type: 'rsa'; readonly modulusBits: number }) & {
      readonly privateLabel: string;
      readonly publicLabel: string;
      readonly privateAttributes: CliAttributes;
      readonly publicAttributes: CliAttributes;
      readonly shareWith?: readonly string[];
    },
  ): Promise<{ readonly privateKey: CliKey; readonly publicKey: CliKey }> {
    const typeArgs = spec.type === 'ec' ? ['--curve', spec.curve] : ['--modulus-size-bits', String(spec.modulusBits), '--public-exponent', '65537'];
    const data = await this.run(login, [
      'key',
      'generate-asymmetric-pair',
      spec.type,
      ...typeArgs,
      '--public-label',
      spec.publicLabel,
      '--private-label',
      spec.privateLabel,
      ...attributeArgs('--public-attributes', spec.publicAttributes),
      ...attributeArgs('--private-attributes', spec.privateAttributes),
      ...shareArgs(spec.shareWith),
    ]);
    return { privateKey: parseKey(field(data, 'private_key')), publicKey: parseKey(field(data, 'public_key')) };
  }

  /** `key list --verbose`: every key `login` sees that matches, all pages. */
  async listKeys(login: CliLogin, filter?: KeyFilter): Promise<CliKey[]> {
    const keys: CliKey[] = [];
    let token: string | undefined;
    do {
      const data = await this.run(login, ['key', 'list', '--verbose', ...filterArgs('--filter', filter), '--max-items', '100', ...(token ? ['--starting-token', token] : [])]);
      const matched = field(data, 'matched_keys');
      if (!Array.isArray(matched)) throw malformed('key list');
      keys.push(...matched.map(parseKey));
      const next = (data as { next_token?: unknown }).next_token;
      token = typeof next === 'string' && next.length > 0 ? next : undefined;
    } while (token);
    return keys;
  }

  /** `key delete` (owner only). */
  async deleteKey(login: CliLogin, filter: KeyFilter): Promise<void> {
    await this.run(login, ['key', 'delete', ...filterArgs('--filter', filter)]);
  }

  /** `key share|unshare ... --username U --role crypto-user` (owner only). */
  async shareKey(login: CliLogin, filter: KeyFilter, username: string, share: boolean): Promise<void> {
    await this.run(login, ['key', share ? 'share' : 'unshare', ...filterArgs('--filter', filter), '--username', username, '--role', 'crypto-user']);
  }

  /** `key wrap <mechanism>`: the payload (extractable, owned by `login`) under the wrapping key. */
  async wrapKey(
    login: CliLogin,
    request: { readonly mechanism: WrapMechanism; readonly payload: KeyFilter; readonly wrapping: KeyFilter; readonly hash?: WrapHash },
  ): Promise<{ readonly wrapped: Buffer; readonly iv?: Buffer }> {
    const data = await this.run(login, ['key', 'wrap', request.mechanism, ...filterArgs('--payload-filter', request.payload), ...filterArgs('--wrapping-filter', request.wrapping), ...hashArgs(request)]);
    // rsa-aes and rsa-oaep print hyphenated names, the AES mechanisms underscores (as the real CLI).
    const wrapped = (data as Record<string, unknown>)['wrapped-key-data'] ?? (data as Record<string, unknown>)['wrapped_key_data'];
    if (typeof wrapped !== 'string') throw malformed('key wrap');
    const iv = (data as Record<string, unknown>)['iv'];
    return { wrapped: Buffer.from(wrapped, 'base64'), ...(typeof iv === 'string' ? { iv: Buffer.from(iv.replace(/^0x/, ''), 'hex') } : {}) };
  }

  /** `key unwrap <mechanism>`: a new key owned by `login`, labelled `label`. */
  async unwrapKey(
    login: CliLogin,
    request: {
      readonly mechanism: WrapMechanism;
      readonly unwrapping: KeyFilter;
      readonly hash?: WrapHash;
      readonly wrapped: Buffer;
      readonly iv?: Buffer;
      readonly keyClass: UnwrapKeyClass;
      readonly label: string;
      readonly attributes: CliAttributes;
      readonly shareWith?: readonly string[];
    },
  ): Promise<CliKey> {
    const data = await this.run(login, [
      'key',
      'unwrap',
      request.mechanism,
      ...filterArgs('--filter', request.unwrapping),
      ...hashArgs(request),
      ...(request.iv ? ['--iv', `0x${request.iv.toString('hex')}`] : []),
      '--key-type-class',
      request.keyClass,
      '--label',
      request.label,
      '--data',
      request.wrapped.toString('base64'),
      ...attributeArgs('--attributes', request.attributes),
      ...shareArgs(request.shareWith),
    ]);
    return parseKey(field(data, 'key'));
  }

  /** `key import pem`: a public key from outside (e.g. a KMS import wrapping key, another cluster's RSA key). */
  async importPublicKey(login: CliLogin, request: { readonly pem: string; readonly label: string; readonly keyClass: 'rsa-public' | 'ec-public'; readonly attributes: CliAttributes }): Promise<CliKey> {
    // The CLI reads the key from a file; it is public, but the folder is private anyway.
    const dir = mkdtempSync(join(tmpdir(), 'keyfleet-import-'));
    try {
      const path = join(dir, 'key.pem');
      writeFileSync(path, request.pem, { mode: 0o600 });
      const data = await this.run(login, ['key', 'import', 'pem', '--path', path, '--label', request.label, '--key-type-class', request.keyClass, ...attributeArgs('--attributes', request.attributes)]);
      return parseKey(field(data, 'key'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** `key replicate` from this cluster to a clone; `destination` logs in there. */
  async replicateKey(login: CliLogin, filter: KeyFilter, destinationClusterId: string, destination: CliLogin): Promise<CliKey> {
    const data = await this.cli.run(
      ['key', 'replicate', ...filterArgs('--filter', filter), '--source-cluster-id', this.clusterId, '--destination-cluster-id', destinationClusterId],
      login,
      destination,
    );
    return parseKey(field(data, 'key'));
  }

  /** `user list` (no login needed). */
  async listUsers(): Promise<CliUser[]> {
    const users = field(await this.cli.run(['user', 'list', '--cluster-id', this.clusterId]), 'users');
    if (!Array.isArray(users)) throw malformed('user list');
    return users.map((u: { username?: unknown; role?: unknown }) => ({ username: String(u.username), role: String(u.role) }));
  }

  /** `user create --role crypto-user` (an admin runs it). */
  async createCryptoUser(admin: CliLogin, username: string, password: string): Promise<void> {
    await this.run(admin, ['user', 'create', '--username', username, '--role', 'crypto-user', '--password', password]);
  }

  /** `user delete --role crypto-user` (an admin runs it; refused while the user owns keys or is logged in). */
  async deleteCryptoUser(admin: CliLogin, username: string): Promise<void> {
    await this.run(admin, ['user', 'delete', '--username', username, '--role', 'crypto-user']);
  }

  /** `user change-password` (an admin, or the user itself). */
  async changePassword(actor: CliLogin, username: string, role: 'admin' | 'crypto-user', password: string): Promise<void> {
    await this.run(actor, ['user', 'change-password', '--username', username, '--role', role, '--password', password]);
  }

  private run(login: CliLogin, argv: readonly string[]): Promise<unknown> {
    return this.cli.run([...argv, '--cluster-id', this.clusterId], login);
  }
}

function attributeArgs(flag: string, attributes: CliAttributes): string[] {
  const entries = Object.entries(attributes);
  return entries.length === 0 ? [] : [flag, ...entries.map(([name, value]) => `${name}=${value}`)];
}

function shareArgs(users: readonly string[] | undefined): string[] {
  return users && users.length > 0 ? ['--share-crypto-users', ...users] : [];
}

function hashArgs(request: { readonly mechanism: WrapMechanism; readonly hash?: WrapHash }): string[] {
  if (request.mechanism !== 'rsa-aes' && request.mechanism !== 'rsa-oaep') return [];
  const hash = request.hash ?? 'sha256';
  return ['--hash-function', hash, '--mgf', `mgf1-${hash}`];
}

function filterArgs(flag: string, filter: KeyFilter | undefined): string[] {
  if (!filter) return [];
  if ('reference' in filter) return [flag, `key-reference=${filter.reference}`];
  return [flag, `attr.label=${filter.label}`, ...(filter.keyClass ? [`attr.class=${filter.keyClass}`] : [])];
}

function field(data: unknown, name: string): unknown {
  if (typeof data !== 'object' || data === null || !(name in data)) throw malformed(name);
  return (data as Record<string, unknown>)[name];
}

function malformed(what: string): HsmException {
  return new HsmException(HsmExceptionCode.CliUnavailable, `cloudhsm-cli answered without the expected ${what}`);
}

/** A key object of the CLI's JSON (`key-reference`, `key-info`, `attributes`). */
export function parseKey(raw: unknown): CliKey {
  if (typeof raw !== 'object' || raw === null) throw malformed('key');
  const key = raw as { 'key-reference'?: unknown; 'key-info'?: { 'key-owners'?: { username?: unknown }[]; 'shared-users'?: { username?: unknown }[] }; attributes?: Record<string, unknown> };
  const attributes = key.attributes ?? {};
  if (typeof key['key-reference'] !== 'string') throw malformed('key-reference');
  return {
    reference: key['key-reference'],
    label: text(attributes['label']),
    keyClass: text(attributes['class']),
    keyType: text(attributes['key-type']),
    owners: (key['key-info']?.['key-owners'] ?? []).map((o) => String(o.username)),
    sharedWith: (key['key-info']?.['shared-users'] ?? []).map((o) => String(o.username)),
    attributes,
  };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
