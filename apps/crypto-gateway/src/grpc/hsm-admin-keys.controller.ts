import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { GatewayException, GatewayExceptionCode, keySpecSchema, keyUsageSchema, type DirectoryKey, type HsmKeyInfo, type KeyAdministration, type KeySpec, type KeyUsage, type WrapHashName, type WrapMechanismName } from '@keyfleet/gateway';
import { LOGGER } from '@keyfleet/observability';
import type { AdminAudit } from '../admin/admin-audit';
import { ADMIN_AUDIT, ADMIN_AUTHORIZER, KEY_ADMIN, type AdminAuthorizer } from '../gateway.tokens';
import { runAdminCall, type AdminCall, type AdminSubject } from './admin-call';

const MECHANISMS: readonly WrapMechanismName[] = ['RSA_AES', 'RSA_OAEP', 'AES_KEY_WRAP_PAD', 'AES_GCM'];
const HASHES: readonly WrapHashName[] = ['SHA1', 'SHA256', 'SHA384', 'SHA512'];

interface GenerateKeyRequest { alias: string; ring: string; keySpec: string; keyUsage: string; keepPreviousCurrent: boolean; nonExtractable: boolean; shareWith: string[] }
interface WrapKeyRequest { alias: string; version: number; clusterId: string; wrappingKeyLabel: string; wrappingKeyAlias: string; mechanism: string; hash: string }
interface UnwrapKeyRequest {
  clusterId: string; unwrappingKeyLabel: string; unwrappingKeyAlias: string; mechanism: string; hash: string; wrappedKey: Buffer; iv: Buffer;
  alias: string; ring: string; keySpec: string; keyUsage: string; keepPreviousCurrent: boolean; nonExtractable: boolean; publicKeyPem: string;
}

/** `keyfleet.hsm.v1.HsmAdmin`, key management: each handler checks its input, calls one `KeyAdministration` use case and shapes the reply. */
@Controller()
export class HsmAdminKeysController {
  constructor(
    @Inject(KEY_ADMIN) private readonly keys: KeyAdministration,
    @Inject(ADMIN_AUTHORIZER) private readonly authorizer: AdminAuthorizer,
    @Inject(ADMIN_AUDIT) private readonly audit: AdminAudit,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @GrpcMethod('HsmAdmin', 'GenerateKey')
  generateKey(req: GenerateKeyRequest, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'generate-key', { keyAlias: req.alias }, async () => {
      const made = await this.keys.generateKey({
        alias: req.alias,
        ...(req.ring ? { ring: req.ring } : {}),
        spec: spec(req.keySpec),
        usage: usage(req.keyUsage),
        makeCurrent: !req.keepPreviousCurrent,
        extractable: !req.nonExtractable,
        shareWith: req.shareWith ?? [],
      });
      return { alias: made.alias, version: made.version, label: made.label, clusterId: made.clusterId, objects: made.objects.map(object) };
    });
  }

  @GrpcMethod('HsmAdmin', 'DestroyKeyVersion')
  destroyKeyVersion(req: { alias: string; version: number }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'destroy-key', { keyAlias: req.alias, keyVersion: req.version }, async () => {
      if (!req.version) throw invalid('version is required');
      const done = await this.keys.destroyKeyVersion(req.alias, req.version);
      return { alias: done.alias, version: done.version, clusterIds: done.clusters };
    });
  }

  @GrpcMethod('HsmAdmin', 'DescribeKey')
  describeKey(req: { alias: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'describe-key', { keyAlias: req.alias }, async () => {
      const described = await this.keys.describeKey(req.alias);
      return {
        key: keyInfo({ ...described, versions: described.versions.map((v) => ({ ...v, clusters: v.clusters.map((c) => c.clusterId) })) }),
        versions: described.versions.map((v) => ({
          version: v.version,
          label: v.label,
          current: v.current,
          clusters: v.clusters.map((c) => ('value' in c ? { clusterId: c.clusterId, objects: c.value.map(object) } : { clusterId: c.clusterId, objects: [], error: c.error })),
        })),
      };
    });
  }

  @GrpcMethod('HsmAdmin', 'ListKeys')
  listKeys(req: { clusterId: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'list-keys', { clusterId: req.clusterId }, async () => {
      const listed = await this.keys.listKeys(req.clusterId || undefined);
      return { keys: listed.keys.map(keyInfo), objects: (listed.objects ?? []).map((o) => ({ ...object(o), managed: o.managed })) };
    });
  }

  @GrpcMethod('HsmAdmin', 'ShareKey')
  shareKey(req: { alias: string; username: string; version: number }, _metadata: unknown, call: AdminCall) {
    return this.share(req, call, true);
  }

  @GrpcMethod('HsmAdmin', 'UnshareKey')
  unshareKey(req: { alias: string; username: string; version: number }, _metadata: unknown, call: AdminCall) {
    return this.share(req, call, false);
  }

  @GrpcMethod('HsmAdmin', 'WrapKey')
  wrapKey(req: WrapKeyRequest, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'wrap-key', { keyAlias: req.alias, keyVersion: req.version, clusterId: req.clusterId }, async () => {
      const wrapped = await this.keys.wrapKey({
        alias: req.alias,
        version: req.version,
        clusterId: req.clusterId,
        ...(req.wrappingKeyLabel ? { wrappingKeyLabel: req.wrappingKeyLabel } : {}),
        ...(req.wrappingKeyAlias ? { wrappingKeyAlias: req.wrappingKeyAlias } : {}),
        mechanism: mechanism(req.mechanism),
        hash: hash(req.hash),
      });
      return { alias: wrapped.alias, version: wrapped.version, clusterId: wrapped.clusterId, mechanism: wrapped.mechanism, wrappedKey: wrapped.wrapped, iv: wrapped.iv ?? Buffer.alloc(0) };
    });
  }

  @GrpcMethod('HsmAdmin', 'UnwrapKey')
  unwrapKey(req: UnwrapKeyRequest, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'unwrap-key', { keyAlias: req.alias, clusterId: req.clusterId }, async () => {
      if (!req.clusterId) throw invalid('cluster_id is required');
      if (!req.wrappedKey || req.wrappedKey.length === 0) throw invalid('wrapped_key is required');
      const made = await this.keys.unwrapKey({
        clusterId: req.clusterId,
        ...(req.unwrappingKeyLabel ? { unwrappingKeyLabel: req.unwrappingKeyLabel } : {}),
        ...(req.unwrappingKeyAlias ? { unwrappingKeyAlias: req.unwrappingKeyAlias } : {}),
        mechanism: mechanism(req.mechanism),
        hash: hash(req.hash),
        wrapped: req.wrappedKey,
        ...(req.iv && req.iv.length > 0 ? { iv: req.iv } : {}),
        alias: req.alias,
        ...(req.ring ? { ring: req.ring } : {}),
        spec: spec(req.keySpec),
        usage: usage(req.keyUsage),
        makeCurrent: !req.keepPreviousCurrent,
        extractable: !req.nonExtractable,
        ...(req.publicKeyPem ? { publicKeyPem: req.publicKeyPem } : {}),
      });
      return { alias: made.alias, version: made.version, label: made.label, clusterId: made.clusterId, objects: [object(made.object)] };
    });
  }

  @GrpcMethod('HsmAdmin', 'ImportPublicKey')
  importPublicKey(req: { clusterId: string; label: string; publicKeyPem: string; wrap: boolean }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'import-public-key', { clusterId: req.clusterId }, async () => ({
      object: object(await this.keys.importPublicKey({ clusterId: req.clusterId, label: req.label, pem: req.publicKeyPem, wrap: req.wrap })),
    }));
  }

  @GrpcMethod('HsmAdmin', 'ReplicateKey')
  replicateKey(req: { alias: string; version: number; destinationClusterId: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'replicate-key', { keyAlias: req.alias, keyVersion: req.version, clusterId: req.destinationClusterId }, async () => {
      if (!req.destinationClusterId) throw invalid('destination_cluster_id is required');
      const done = await this.keys.replicateKey(req.alias, req.destinationClusterId, req.version);
      return { alias: done.alias, version: done.version, sourceClusterId: done.sourceClusterId ?? '', destinationClusterId: done.destinationClusterId, objectsCopied: done.copied };
    });
  }

  @GrpcMethod('HsmAdmin', 'SetKeyState')
  setKeyState(req: { alias: string; currentVersion: number; enablement: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'set-key-state', { keyAlias: req.alias, keyVersion: req.currentVersion }, () => {
      const enabled = req.enablement === 'KEY_ENABLEMENT_ENABLE' ? true : req.enablement === 'KEY_ENABLEMENT_DISABLE' ? false : undefined;
      return this.keys.setKeyState(req.alias, { ...(req.currentVersion ? { currentVersion: req.currentVersion } : {}), ...(enabled !== undefined ? { enabled } : {}) });
    });
  }

  private share(req: { alias: string; username: string; version: number }, call: AdminCall, share: boolean) {
    return this.run(call, share ? 'share-key' : 'unshare-key', { keyAlias: req.alias, keyVersion: req.version, username: req.username }, async () => {
      if (!req.username) throw invalid('username is required');
      const done = await this.keys.shareKey(req.alias, req.username, share, req.version || undefined);
      return { changed: done.changed.map((c) => ({ version: c.version, clusterId: c.clusterId, keyReference: c.reference })) };
    });
  }

  private run<T>(call: AdminCall, action: Parameters<typeof runAdminCall>[2], subject: AdminSubject, work: () => T | Promise<T>): Promise<T> {
    return runAdminCall({ authorizer: this.authorizer, audit: this.audit, logger: this.logger }, call, action, subject, work);
  }
}

function invalid(message: string): GatewayException {
  return new GatewayException(GatewayExceptionCode.InvalidArgument, message);
}

function spec(value: string): KeySpec {
  const parsed = keySpecSchema.safeParse(value);
  if (!parsed.success) throw invalid(`key_spec must be one of ${keySpecSchema.options.join(', ')}`);
  return parsed.data;
}

function usage(value: string): KeyUsage {
  const parsed = keyUsageSchema.safeParse(value);
  if (!parsed.success) throw invalid(`key_usage must be one of ${keyUsageSchema.options.join(', ')}`);
  return parsed.data;
}

function mechanism(value: string): WrapMechanismName {
  if (!(MECHANISMS as readonly string[]).includes(value)) throw invalid(`mechanism must be one of ${MECHANISMS.join(', ')}`);
  return value as WrapMechanismName;
}

function hash(value: string): WrapHashName {
  if (!value) return 'SHA256';
  if (!(HASHES as readonly string[]).includes(value)) throw invalid(`hash must be one of ${HASHES.join(', ')}`);
  return value as WrapHashName;
}

function object(o: HsmKeyInfo) {
  return { keyReference: o.reference, label: o.label, keyClass: o.keyClass, keyType: o.keyType, owners: o.owners, sharedWith: o.sharedWith, extractable: o.extractable, managed: false };
}

function keyInfo(k: Pick<DirectoryKey, 'alias' | 'ring' | 'spec' | 'usage' | 'enabled' | 'currentVersion'> & { versions: readonly { version: number; label: string; publicLabel?: string; clusters: readonly string[] }[] }) {
  return {
    alias: k.alias,
    ring: k.ring,
    keySpec: k.spec,
    keyUsage: k.usage,
    enabled: k.enabled,
    currentVersion: k.currentVersion,
    versions: k.versions.map((v) => ({ version: v.version, label: v.label, publicLabel: v.publicLabel ?? '', current: v.version === k.currentVersion, clusterIds: v.clusters })),
  };
}
