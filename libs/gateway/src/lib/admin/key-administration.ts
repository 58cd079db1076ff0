import { createPublicKey } from 'node:crypto';
import { GatewayException, GatewayExceptionCode } from '../gateway.exception';
import { USAGES_BY_SPEC, type DirectoryKey, type DirectoryVersion, type KeyDirectory, type KeySpec, type KeyUsage } from '../keys/key-directory';
import type { ClusterAdmin, ClusterAdminSet, HsmKeyInfo, HsmKeySelector, KeyHandleInvalidator, WrapHashName, WrapMechanismName } from './admin.ports';

export interface KeyAdministrationDependencies {
  readonly directory: KeyDirectory;
  readonly clusters: ClusterAdminSet;
  readonly handles: KeyHandleInvalidator;
}

const ALIAS = /^[A-Za-z0-9/_.-]{1,120}$/;
const ASYMMETRIC: ReadonlySet<KeySpec> = new Set(['ECC_NIST_P256', 'ECC_NIST_P384', 'RSA_2048', 'RSA_3072', 'RSA_4096']);

/** The HSM label of a key version: `<alias>/v<version>` (what key-service derives too). */
export function versionLabel(alias: string, version: number): string {
  return `${alias}/v${version}`;
}

/** Per cluster: what was found there, or why it could not be asked. */
export type PerCluster<T> = { readonly clusterId: string } & ({ readonly value: T } | { readonly error: string });

/**
 * Key management through each cluster's admin interface, kept in step with the key
 * directory: a version enters the directory only after its key objects exist, and leaves a
 * cluster's list only after they are gone there, so the directory never names a key that
 * is not there (a failure part-way is reported, and the same request finishes the work).
 */
export class KeyAdministration {
  constructor(private readonly deps: KeyAdministrationDependencies) {}

  /**
   * A new key, or a new version of one, made on the ring's write cluster and labelled
   * `<alias>/v<n>`. It becomes current unless `makeCurrent` is false (a new key's first
   * version is always current).
   */
  async generateKey(request: {
    readonly alias: string;
    readonly ring?: string;
    readonly spec: KeySpec;
    readonly usage: KeyUsage;
    readonly makeCurrent?: boolean;
    readonly extractable?: boolean;
    readonly shareWith?: readonly string[];
  }) {
    const { ring, admin } = this.placement(request.alias, request.ring, request.spec, request.usage);
    const version = this.deps.directory.nextVersion(request.alias);
    const label = versionLabel(request.alias, version);
    const leftover = await admin.findKeys({ label });
    if (leftover.length > 0) {
      throw new GatewayException(
        GatewayExceptionCode.AlreadyExists,
        `cluster ${admin.clusterId} already holds objects labelled ${label} (${leftover.map((k) => k.reference).join(', ')}) that the directory does not know: delete them first`,
      );
    }
    const objects = await admin.generateKey({ spec: request.spec, usage: request.usage, label, extractable: request.extractable ?? true, shareWith: request.shareWith ?? [] });
    try {
      this.deps.directory.addVersion({ alias: request.alias, ring, spec: request.spec, usage: request.usage }, { version, label, clusters: [admin.clusterId] }, request.makeCurrent ?? true);
    } catch (err) {
      await this.deleteObjects(admin, [label]);
      throw err;
    }
    this.deps.handles.invalidate(admin.clusterId, label);
    return { alias: request.alias, version, label, clusterId: admin.clusterId, objects };
  }

  /**
   * Destroys a version's key objects on every cluster holding it. The current version of a
   * key with other versions is refused (make another current first); destroying the only
   * version removes the key.
   */
  async destroyKeyVersion(alias: string, version: number) {
    const key = this.requireKey(alias);
    const found = requireVersion(key, version);
    if (version === key.currentVersion && key.versions.length > 1) {
      throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `version ${version} is the current version of ${alias}: make another version current first`);
    }
    for (const [i, clusterId] of found.clusters.entries()) {
      try {
        await this.deleteObjects(this.requireAdmin(clusterId), labelsOf(found));
      } catch (err) {
        const left = found.clusters.slice(i).join(', ');
        throw new GatewayException(failureCode(err), `destroying ${alias} v${version} stopped at cluster ${clusterId} (still held by ${left}; ask again to finish): ${reason(err)}`, { cause: err });
      }
      this.deps.directory.removeClusters(alias, version, [clusterId]);
      this.deps.handles.invalidate(clusterId, found.label);
      if (found.publicLabel) this.deps.handles.invalidate(clusterId, found.publicLabel);
    }
    return { alias, version, clusters: found.clusters };
  }

  /** The directory's view of a key and, per cluster holding a version, the HSM's. */
  async describeKey(alias: string) {
    const key = this.requireKey(alias);
    const versions = await Promise.all(
      key.versions.map(async (v) => ({
        version: v.version,
        label: v.label,
        ...(v.publicLabel ? { publicLabel: v.publicLabel } : {}),
        current: v.version === key.currentVersion,
        clusters: await Promise.all(v.clusters.map((clusterId) => this.perCluster(clusterId, (admin) => this.objectsOf(admin, labelsOf(v))))),
      })),
    );
    return { alias: key.alias, ring: key.ring, spec: key.spec, usage: key.usage, enabled: key.enabled, currentVersion: key.currentVersion, versions };
  }

  /** Every key of the directory; with `clusterId`, also every object the cluster's crypto user sees there, marking those no key names. */
  async listKeys(clusterId?: string) {
    const keys = this.deps.directory.keys();
    if (!clusterId) return { keys };
    const admin = this.requireAdmin(clusterId);
    const known = new Set(keys.flatMap((k) => k.versions.filter((v) => v.clusters.includes(clusterId)).flatMap(labelsOf)));
    const objects = (await admin.findKeys()).map((o) => ({ ...o, managed: known.has(o.label) }));
    return { keys, clusterId, objects };
  }

  /** Shares (or unshares) a key's versions with a crypto user on every cluster holding them; already shared (unshared) objects are left alone. */
  async shareKey(alias: string, username: string, share: boolean, version?: number) {
    const key = this.requireKey(alias);
    const versions = version ? [requireVersion(key, version)] : key.versions;
    const changed: { version: number; clusterId: string; reference: string }[] = [];
    for (const v of versions) {
      for (const clusterId of v.clusters) {
        const admin = this.requireAdmin(clusterId);
        for (const object of (await admin.findKeys({ label: v.label })).filter((o) => o.keyClass !== 'public-key')) {
          if (object.sharedWith.includes(username) === share) continue;
          await admin.shareKey({ label: v.label, keyClass: object.keyClass as 'secret-key' | 'private-key' }, username, share);
          changed.push({ version: v.version, clusterId, reference: object.reference });
        }
      }
    }
    return { alias, username, shared: share, changed };
  }

  /**
   * Wraps a key version under a wrapping key on a cluster holding both (by default the ring's
   * write cluster when it holds the version). The wrapping key is named by its HSM label
   * (for instance an imported KMS wrapping key) or by the alias of a WRAP_UNWRAP key.
   */
  async wrapKey(request: {
    readonly alias: string;
    readonly version?: number;
    readonly clusterId?: string;
    readonly wrappingKeyLabel?: string;
    readonly wrappingKeyAlias?: string;
    readonly mechanism: WrapMechanismName;
    readonly hash?: WrapHashName;
  }) {
    const key = this.requireKey(request.alias);
    const found = requireVersion(key, request.version || key.currentVersion);
    const clusterId = request.clusterId || this.preferredHolder(key, found);
    if (!found.clusters.includes(clusterId)) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `${request.alias} v${found.version} is not on cluster ${clusterId}`);
    const admin = this.requireAdmin(clusterId);
    const wrappingLabel = this.wrappingLabel(request.wrappingKeyLabel, request.wrappingKeyAlias, clusterId);
    const rsa = request.mechanism === 'RSA_AES' || request.mechanism === 'RSA_OAEP';
    const result = await admin.wrapKey({
      payload: { label: found.label, keyClass: ASYMMETRIC.has(key.spec) ? 'private-key' : 'secret-key' },
      wrapping: { label: wrappingLabel, keyClass: rsa ? 'public-key' : 'secret-key' },
      mechanism: request.mechanism,
      hash: request.hash ?? 'SHA256',
    });
    return { alias: key.alias, version: found.version, clusterId, mechanism: request.mechanism, wrapped: result.wrapped, ...(result.iv ? { iv: result.iv } : {}) };
  }

  /**
   * Unwraps key material into a new version of `alias` on `clusterId` (labelled
   * `<alias>/v<n>`), then records it. A private key needs its public half as PEM, imported
   * beside it under the same label, so verification and GetPublicKey work.
   */
  async unwrapKey(request: {
    readonly clusterId: string;
    readonly unwrappingKeyLabel?: string;
    readonly unwrappingKeyAlias?: string;
    readonly mechanism: WrapMechanismName;
    readonly hash?: WrapHashName;
    readonly wrapped: Buffer;
    readonly iv?: Buffer;
    readonly alias: string;
    readonly ring?: string;
    readonly spec: KeySpec;
    readonly usage: KeyUsage;
    readonly makeCurrent?: boolean;
    readonly extractable?: boolean;
    readonly publicKeyPem?: string;
  }) {
    const { ring } = this.placement(request.alias, request.ring, request.spec, request.usage);
    const asymmetric = ASYMMETRIC.has(request.spec);
    if (asymmetric && !request.publicKeyPem) throw new GatewayException(GatewayExceptionCode.InvalidArgument, `unwrapping a ${request.spec} private key needs public_key_pem`);
    if (asymmetric && request.publicKeyPem && publicKeyType(request.publicKeyPem) !== (request.spec.startsWith('ECC') ? 'ec' : 'rsa')) {
      throw new GatewayException(GatewayExceptionCode.InvalidArgument, `public_key_pem is not a ${request.spec} public key`);
    }
    const admin = this.requireAdmin(request.clusterId);
    const unwrappingLabel = this.wrappingLabel(request.unwrappingKeyLabel, request.unwrappingKeyAlias, request.clusterId);
    const version = this.deps.directory.nextVersion(request.alias);
    const label = versionLabel(request.alias, version);
    const rsa = request.mechanism === 'RSA_AES' || request.mechanism === 'RSA_OAEP';
    const made = await admin.unwrapKey({
      unwrapping: { label: unwrappingLabel, keyClass: rsa ? 'private-key' : 'secret-key' },
      mechanism: request.mechanism,
      hash: request.hash ?? 'SHA256',
      wrapped: request.wrapped,
      ...(request.iv && request.iv.length > 0 ? { iv: request.iv } : {}),
      spec: request.spec,
      usage: request.usage,
      label,
      extractable: request.extractable ?? true,
    });
    try {
      if (asymmetric && request.publicKeyPem) {
        await admin.importPublicKey({ pem: request.publicKeyPem, label, keyClass: request.spec.startsWith('ECC') ? 'ec-public' : 'rsa-public', wrap: request.usage === 'WRAP_UNWRAP', verify: request.usage === 'SIGN_VERIFY' });
      }
      this.deps.directory.addVersion({ alias: request.alias, ring, spec: request.spec, usage: request.usage }, { version, label, clusters: [request.clusterId] }, request.makeCurrent ?? true);
    } catch (err) {
      await this.deleteObjects(admin, [label]);
      throw err;
    }
    this.deps.handles.invalidate(request.clusterId, label);
    return { alias: request.alias, version, label, clusterId: request.clusterId, object: made };
  }

  /** Imports a public key (e.g. a KMS import wrapping key) on a cluster under `label`. */
  async importPublicKey(request: { readonly clusterId: string; readonly label: string; readonly pem: string; readonly wrap: boolean }) {
    if (!request.label || request.label.length > 127) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'label must be 1..127 characters');
    const admin = this.requireAdmin(request.clusterId);
    const type = publicKeyType(request.pem);
    return admin.importPublicKey({ pem: request.pem, label: request.label, keyClass: type === 'rsa' ? 'rsa-public' : 'ec-public', wrap: request.wrap, verify: !request.wrap });
  }

  /**
   * Copies a version's key objects to another cluster (a clone of a cluster holding it) and
   * adds that cluster to the version. Objects already there are skipped, so a replication
   * stopped part-way finishes when asked again.
   */
  async replicateKey(alias: string, destinationClusterId: string, version?: number) {
    const key = this.requireKey(alias);
    const found = requireVersion(key, version || key.currentVersion);
    const destination = this.requireAdmin(destinationClusterId);
    if (found.clusters.includes(destinationClusterId)) return { alias, version: found.version, sourceClusterId: undefined, destinationClusterId, copied: 0 };
    const sourceId = this.preferredHolder(key, found);
    const source = this.requireAdmin(sourceId);
    let copied = 0;
    for (const object of await this.objectsOf(source, labelsOf(found))) {
      const selector: HsmKeySelector = { label: object.label, keyClass: object.keyClass as HsmKeySelector['keyClass'] & string };
      if ((await destination.findKeys(selector)).length > 0) continue;
      await source.replicateKey(selector, destinationClusterId);
      copied += 1;
    }
    this.deps.directory.addClusters(alias, found.version, [destinationClusterId]);
    this.deps.handles.invalidate(destinationClusterId, found.label);
    return { alias, version: found.version, sourceClusterId: sourceId, destinationClusterId, copied };
  }

  /** Makes a version current (rotation) or enables / disables a key. */
  setKeyState(alias: string, change: { readonly currentVersion?: number; readonly enabled?: boolean }) {
    if (change.currentVersion) this.deps.directory.setCurrentVersion(alias, change.currentVersion);
    if (change.enabled !== undefined) this.deps.directory.setEnabled(alias, change.enabled);
    const key = this.requireKey(alias);
    return { alias, currentVersion: key.currentVersion, enabled: key.enabled };
  }

  private placement(alias: string, ringName: string | undefined, spec: KeySpec, usage: KeyUsage): { ring: string; admin: ClusterAdmin } {
    if (!ALIAS.test(alias)) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'alias must be 1..120 letters, digits, / _ . -');
    if (!USAGES_BY_SPEC[spec]?.includes(usage)) throw new GatewayException(GatewayExceptionCode.InvalidArgument, `a ${spec} key cannot be ${usage}`);
    const existing = this.deps.directory.key(alias);
    const ring = ringName || existing?.ring;
    if (!ring) throw new GatewayException(GatewayExceptionCode.InvalidArgument, `ring is required for the new key ${alias}`);
    if (existing && (existing.ring !== ring || existing.spec !== spec || existing.usage !== usage)) {
      throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `key ${alias} is a ${existing.spec} ${existing.usage} key of ring ${existing.ring}`);
    }
    const ringConfig = this.deps.directory.rings()[ring];
    if (!ringConfig) throw new GatewayException(GatewayExceptionCode.NotFound, `no key ring ${ring}`);
    return { ring, admin: this.requireAdmin(ringConfig.writeCluster) };
  }

  private wrappingLabel(label: string | undefined, alias: string | undefined, clusterId: string): string {
    if (label) return label;
    if (!alias) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'name the wrapping key by label or alias');
    const key = this.requireKey(alias);
    if (key.usage !== 'WRAP_UNWRAP') throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `key ${alias} is not a WRAP_UNWRAP key`);
    const current = requireVersion(key, key.currentVersion);
    if (!current.clusters.includes(clusterId)) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `wrapping key ${alias} is not on cluster ${clusterId}`);
    return current.label;
  }

  private preferredHolder(key: DirectoryKey, version: DirectoryVersion): string {
    const write = this.deps.directory.rings()[key.ring]?.writeCluster;
    const holder = write && version.clusters.includes(write) ? write : version.clusters.find((c) => this.deps.clusters.get(c));
    if (!holder) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `no cluster holding ${key.alias} v${version.version} has an admin interface`);
    return holder;
  }

  /** Every object with one of `labels` on a cluster. */
  private async objectsOf(admin: ClusterAdmin, labels: readonly string[]): Promise<HsmKeyInfo[]> {
    return (await Promise.all(labels.map((label) => admin.findKeys({ label })))).flat();
  }

  /** Deletes every object with one of `labels` on one cluster; objects already gone are fine. */
  private async deleteObjects(admin: ClusterAdmin, labels: readonly string[]): Promise<void> {
    for (const object of await this.objectsOf(admin, labels)) {
      await admin.deleteKey({ label: object.label, keyClass: object.keyClass as HsmKeySelector['keyClass'] & string });
    }
  }

  private async perCluster<T>(clusterId: string, ask: (admin: ClusterAdmin) => Promise<T>): Promise<PerCluster<T>> {
    const admin = this.deps.clusters.get(clusterId);
    if (!admin) return { clusterId, error: 'no admin interface configured' };
    try {
      return { clusterId, value: await ask(admin) };
    } catch (err) {
      return { clusterId, error: reason(err) };
    }
  }

  private requireKey(alias: string): DirectoryKey {
    const key = this.deps.directory.key(alias);
    if (!key) throw new GatewayException(GatewayExceptionCode.NotFound, `no key with alias ${alias}`);
    return key;
  }

  private requireAdmin(clusterId: string): ClusterAdmin {
    const admin = this.deps.clusters.get(clusterId);
    if (!admin) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `cluster ${clusterId} has no admin interface configured`);
    return admin;
  }
}

/** The HSM labels of a version's objects: one, or two when the public key is labelled apart. */
function labelsOf(version: DirectoryVersion): string[] {
  return version.publicLabel && version.publicLabel !== version.label ? [version.label, version.publicLabel] : [version.label];
}

function requireVersion(key: DirectoryKey, version: number): DirectoryVersion {
  const found = key.versions.find((v) => v.version === version);
  if (!found) throw new GatewayException(GatewayExceptionCode.NotFound, `key ${key.alias} has no version ${version}`);
  return found;
}

/** `rsa` or `ec` for a PEM SubjectPublicKeyInfo of those types. @throws GatewayException InvalidArgument */
function publicKeyType(pem: string): 'rsa' | 'ec' {
  let type: string | undefined;
  try {
    type = createPublicKey(pem).asymmetricKeyType;
  } catch {
    throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'public_key_pem is not a readable PEM public key');
  }
  if (type !== 'rsa' && type !== 'ec') throw new GatewayException(GatewayExceptionCode.InvalidArgument, `public keys of type ${type ?? 'unknown'} are not imported`);
  return type;
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : 'unknown error';
}

function failureCode(err: unknown): GatewayExceptionCode {
  return err instanceof GatewayException ? err.code : GatewayExceptionCode.Unavailable;
}
