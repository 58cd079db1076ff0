import { z } from 'zod';
import { GatewayException, GatewayExceptionCode } from '../gateway.exception';

/** Key specs the gateway serves (names as in AWS KMS, which operators already know). */
export const keySpecSchema = z.enum(['AES_256', 'HMAC_256', 'HMAC_384', 'HMAC_512', 'ECC_NIST_P256', 'ECC_NIST_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096']);
export type KeySpec = z.infer<typeof keySpecSchema>;

export const keyUsageSchema = z.enum(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'WRAP_UNWRAP']);
export type KeyUsage = z.infer<typeof keyUsageSchema>;

/** Which usages each spec can have (a wrapping key is an AES key or an RSA pair). */
export const USAGES_BY_SPEC: Readonly<Record<KeySpec, readonly KeyUsage[]>> = Object.freeze({
  AES_256: ['ENCRYPT_DECRYPT', 'WRAP_UNWRAP'],
  HMAC_256: ['GENERATE_VERIFY_MAC'],
  HMAC_384: ['GENERATE_VERIFY_MAC'],
  HMAC_512: ['GENERATE_VERIFY_MAC'],
  ECC_NIST_P256: ['SIGN_VERIFY'],
  ECC_NIST_P384: ['SIGN_VERIFY'],
  RSA_2048: ['SIGN_VERIFY', 'WRAP_UNWRAP'],
  RSA_3072: ['SIGN_VERIFY', 'WRAP_UNWRAP'],
  RSA_4096: ['SIGN_VERIFY', 'WRAP_UNWRAP'],
});

const clusterId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'cluster ids are 1..64 letters, digits, _ . -');

/**
 * The gateway's key directory, as configured (and later changed by admin RPCs and key
 * events): key rings with their clusters' routing weights, and keys with their versions,
 * the HSM label of each version and the clusters that hold it.
 */
export const keyDirectorySchema = z
  .object({
    rings: z.record(
      z.string().min(1),
      z.object({
        /** Where new keys are created. */
        writeCluster: clusterId,
        /** Share of traffic per cluster; 0 takes a cluster out of rotation without removing it. */
        weights: z.record(clusterId, z.number().int().min(0).max(1000)),
      }),
    ),
    keys: z.array(
      z.object({
        alias: z.string().regex(/^[A-Za-z0-9/_.-]{1,128}$/, 'aliases are 1..128 letters, digits, / _ . -'),
        ring: z.string().min(1),
        spec: keySpecSchema,
        usage: keyUsageSchema,
        enabled: z.boolean().default(true),
        currentVersion: z.number().int().min(1),
        versions: z
          .array(
            z.object({
              version: z.number().int().min(1),
              label: z.string().min(1).max(127),
              /** Label of the public-key object when it differs from the private key's (CloudHSM pairs often have two). */
              publicLabel: z.string().min(1).max(127).optional(),
              clusters: z.array(clusterId).min(1),
            }),
          )
          .min(1),
      }),
    ),
  })
  .superRefine((directory, ctx) => {
    for (const [name, ring] of Object.entries(directory.rings)) {
      if (!(ring.writeCluster in ring.weights)) ctx.addIssue({ code: 'custom', path: ['rings', name, 'writeCluster'], message: 'must be one of the ring\'s clusters' });
    }
    const seen = new Set<string>();
    directory.keys.forEach((key, i) => {
      if (seen.has(key.alias)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'alias'], message: `duplicate alias ${key.alias}` });
      seen.add(key.alias);
      if (!(key.ring in directory.rings)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'ring'], message: `unknown ring ${key.ring}` });
      if (!key.versions.some((v) => v.version === key.currentVersion)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'currentVersion'], message: 'no such version' });
      if (!USAGES_BY_SPEC[key.spec].includes(key.usage)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'usage'], message: `a ${key.spec} key cannot be ${key.usage}` });
      if (new Set(key.versions.map((v) => v.version)).size !== key.versions.length) ctx.addIssue({ code: 'custom', path: ['keys', i, 'versions'], message: 'duplicate version' });
    });
  });
export type KeyDirectoryConfig = z.input<typeof keyDirectorySchema>;

/** One version of a key, resolved for an operation. */
export interface ResolvedKey {
  readonly alias: string;
  readonly spec: KeySpec;
  readonly usage: KeyUsage;
  readonly version: number;
  readonly label: string;
  /** The public-key object's label (asymmetric keys); the same as `label` unless configured. */
  readonly publicLabel: string;
  /** Clusters holding this version, with the ring's current weight of each. */
  readonly clusters: readonly { readonly id: string; readonly weight: number }[];
}

type Parsed = z.output<typeof keyDirectorySchema>;

/** Looks keys up by alias and version; weights change at run time without disturbing lookups in flight (each lookup is a snapshot). */
export class KeyDirectory {
  private state: Parsed;

  constructor(config: KeyDirectoryConfig) {
    this.state = parseDirectory(config);
  }

  /** The key's `version`, or its current version when `version` is 0 or absent. @throws GatewayException NotFound / FailedPrecondition */
  resolve(alias: string, version?: number): ResolvedKey {
    const key = this.state.keys.find((k) => k.alias === alias);
    if (!key) throw new GatewayException(GatewayExceptionCode.NotFound, `no key with alias ${alias}`);
    if (!key.enabled) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `key ${alias} is disabled`);
    const wanted = version && version > 0 ? version : key.currentVersion;
    const found = key.versions.find((v) => v.version === wanted);
    if (!found) throw new GatewayException(GatewayExceptionCode.NotFound, `key ${alias} has no version ${wanted}`);
    const weights = this.state.rings[key.ring]?.weights ?? {};
    return {
      alias,
      spec: key.spec,
      usage: key.usage,
      version: found.version,
      label: found.label,
      publicLabel: found.publicLabel ?? found.label,
      clusters: found.clusters.map((id) => ({ id, weight: weights[id] ?? 0 })),
    };
  }

  /** Sets a ring's routing weights (replacing them). @throws GatewayException NotFound / InvalidArgument */
  setWeights(ring: string, weights: Readonly<Record<string, number>>): void {
    const current = this.state.rings[ring];
    if (!current) throw new GatewayException(GatewayExceptionCode.NotFound, `no key ring ${ring}`);
    this.state = parseDirectory({ ...this.state, rings: { ...this.state.rings, [ring]: { ...current, weights: { ...weights } } } });
    this.changed();
  }

  /** The rings and their weights, for status. */
  rings(): Readonly<Record<string, { writeCluster: string; weights: Readonly<Record<string, number>> }>> {
    return this.state.rings;
  }

  /** One key as configured (every version), or undefined. */
  key(alias: string): DirectoryKey | undefined {
    return this.state.keys.find((k) => k.alias === alias);
  }

  /** Every key, in alias order. */
  keys(): readonly DirectoryKey[] {
    return [...this.state.keys].sort((a, b) => a.alias.localeCompare(b.alias));
  }

  /** The version a new version of `alias` gets: one past the highest (1 for a new key). */
  nextVersion(alias: string): number {
    return Math.max(0, ...(this.key(alias)?.versions.map((v) => v.version) ?? [])) + 1;
  }

  /**
   * Records a new version (creating the key when `alias` is new); it becomes current when
   * `makeCurrent` or when the key is new. @throws GatewayException InvalidArgument / FailedPrecondition
   */
  addVersion(entry: { readonly alias: string; readonly ring: string; readonly spec: KeySpec; readonly usage: KeyUsage }, version: DirectoryVersion, makeCurrent: boolean): void {
    const existing = this.key(entry.alias);
    if (existing && (existing.spec !== entry.spec || existing.usage !== entry.usage || existing.ring !== entry.ring)) {
      throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `key ${entry.alias} is a ${existing.spec} ${existing.usage} key of ring ${existing.ring}`);
    }
    const key: DirectoryKey = existing
      ? { ...existing, versions: [...existing.versions, version], currentVersion: makeCurrent ? version.version : existing.currentVersion }
      : { ...entry, enabled: true, currentVersion: version.version, versions: [version] };
    this.replaceKey(entry.alias, key);
  }

  /** Adds clusters to the ones holding a version (after replication). @throws GatewayException NotFound */
  addClusters(alias: string, version: number, clusters: readonly string[]): void {
    const key = this.requireKey(alias);
    this.requireVersion(key, version);
    this.replaceKey(alias, {
      ...key,
      versions: key.versions.map((v) => (v.version === version ? { ...v, clusters: [...new Set([...v.clusters, ...clusters])] } : v)),
    });
  }

  /**
   * Takes clusters off a version (its key objects are gone there); a version left on no
   * cluster is removed, and a key left with no version is removed.
   * @throws GatewayException NotFound
   */
  removeClusters(alias: string, version: number, clusters: readonly string[]): void {
    const key = this.requireKey(alias);
    this.requireVersion(key, version);
    const versions = key.versions.flatMap((v) => {
      if (v.version !== version) return [v];
      const left = v.clusters.filter((c) => !clusters.includes(c));
      return left.length > 0 ? [{ ...v, clusters: left }] : [];
    });
    if (versions.length === 0) {
      this.state = parseDirectory({ ...this.state, keys: this.state.keys.filter((k) => k.alias !== alias) });
      this.changed();
      return;
    }
    const currentVersion = versions.some((v) => v.version === key.currentVersion) ? key.currentVersion : Math.max(...versions.map((v) => v.version));
    this.replaceKey(alias, { ...key, versions, currentVersion });
  }

  /** Makes `version` the one new encryptions and signatures use. @throws GatewayException NotFound */
  setCurrentVersion(alias: string, version: number): void {
    const key = this.requireKey(alias);
    this.requireVersion(key, version);
    this.replaceKey(alias, { ...key, currentVersion: version });
  }

  /** Enables or disables a key (a disabled key answers FAILED_PRECONDITION). @throws GatewayException NotFound */
  setEnabled(alias: string, enabled: boolean): void {
    this.replaceKey(alias, { ...this.requireKey(alias), enabled });
  }

  /** The directory as a configuration (to persist it). */
  snapshot(): KeyDirectoryConfig {
    return structuredClone({ rings: this.state.rings, keys: this.state.keys });
  }

  /** Called after every change (weights, keys, versions), with nothing: read `snapshot()`. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  private readonly listeners: (() => void)[] = [];

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private requireKey(alias: string): DirectoryKey {
    const key = this.key(alias);
    if (!key) throw new GatewayException(GatewayExceptionCode.NotFound, `no key with alias ${alias}`);
    return key;
  }

  private requireVersion(key: DirectoryKey, version: number): DirectoryVersion {
    const found = key.versions.find((v) => v.version === version);
    if (!found) throw new GatewayException(GatewayExceptionCode.NotFound, `key ${key.alias} has no version ${version}`);
    return found;
  }

  private replaceKey(alias: string, key: DirectoryKey): void {
    const others = this.state.keys.filter((k) => k.alias !== alias);
    this.state = parseDirectory({ ...this.state, keys: [...others, key] });
    this.changed();
  }
}

/** A key of the directory, every version. */
export type DirectoryKey = Parsed['keys'][number];
/** One version of a key: its HSM label(s) and the clusters that hold it. */
export type DirectoryVersion = DirectoryKey['versions'][number];

function parseDirectory(config: KeyDirectoryConfig): Parsed {
  const parsed = keyDirectorySchema.safeParse(config);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new GatewayException(GatewayExceptionCode.InvalidArgument, `invalid key directory: ${problems}`);
  }
  return parsed.data;
}
