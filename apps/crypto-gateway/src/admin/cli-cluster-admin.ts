import { GatewayException, GatewayExceptionCode, type ClusterAdmin, type ClusterAdminSet, type HsmKeyInfo, type HsmKeySelector, type KeySpec, type KeyUsage, type WrapHashName, type WrapMechanismName } from '@keyfleet/gateway';
import { CloudHsmCliAdmin, HsmException, type CliAttributes, type CliKey, type CliLogin, type CloudHsmCliRunner, type KeyFilter, type UnwrapKeyClass, type WrapHash, type WrapMechanism } from '@keyfleet/hsm';
import type { ClusterFleet } from '../clusters/cluster-fleet';
import { failureClassifier } from '../clusters/failure-classifier';
import type { SecretsCredentials } from '../clusters/secrets-credentials';

const MECHANISMS: Readonly<Record<WrapMechanismName, WrapMechanism>> = { RSA_AES: 'rsa-aes', RSA_OAEP: 'rsa-oaep', AES_KEY_WRAP_PAD: 'aes-zero-pad', AES_GCM: 'aes-gcm' };
const HASHES: Readonly<Record<WrapHashName, WrapHash>> = { SHA1: 'sha1', SHA256: 'sha256', SHA384: 'sha384', SHA512: 'sha512' };
const SECRET_LENGTH: Partial<Record<KeySpec, number>> = { AES_256: 32, HMAC_256: 32, HMAC_384: 48, HMAC_512: 64 };
const CURVES: Partial<Record<KeySpec, 'secp256r1' | 'secp384r1'>> = { ECC_NIST_P256: 'secp256r1', ECC_NIST_P384: 'secp384r1' };
const RSA_BITS: Partial<Record<KeySpec, number>> = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 };

/**
 * One cluster's admin plane over cloudhsm-cli. Key commands run as the crypto user of the
 * cluster's pool (its current secret), so the pool's token holds the keys made; user
 * commands run as the cluster's admin (`adminSecretId`). Credentials are read for each
 * command and handed to the CLI only; HSM failures become gateway errors here.
 */
export class CliClusterAdmin implements ClusterAdmin {
  private readonly cli: CloudHsmCliAdmin;

  constructor(
    readonly clusterId: string,
    runner: CloudHsmCliRunner,
    private readonly fleet: ClusterFleet,
    private readonly credentials: SecretsCredentials,
  ) {
    this.cli = new CloudHsmCliAdmin(runner, cloudhsmId(fleet, clusterId));
  }

  readonly cryptoUser = async (): Promise<string> => (await this.login()).username;

  generateKey(request: { readonly spec: KeySpec; readonly usage: KeyUsage; readonly label: string; readonly extractable: boolean; readonly shareWith: readonly string[] }) {
    return this.translated(async () => {
      const login = await this.login();
      const length = SECRET_LENGTH[request.spec];
      if (length) {
        const key = await this.cli.generateSymmetric(login, {
          type: request.spec === 'AES_256' ? 'aes' : 'generic-secret',
          label: request.label,
          lengthBytes: length,
          attributes: { ...secretUsage(request.usage), extractable: request.extractable },
          shareWith: request.shareWith,
        });
        return [info(key)];
      }
      const { privateAttributes, publicAttributes } = pairUsage(request.usage);
      const curve = CURVES[request.spec];
      const shape = curve ? { type: 'ec' as const, curve } : { type: 'rsa' as const, modulusBits: RSA_BITS[request.spec] ?? 2048 };
      const pair = await this.cli.generateKeyPair(login, {
        ...shape,
        privateLabel: request.label,
        publicLabel: request.label,
        privateAttributes: { ...privateAttributes, extractable: request.extractable },
        publicAttributes,
        shareWith: request.shareWith,
      });
      return [info(pair.publicKey), info(pair.privateKey)];
    });
  }

  findKeys(selector?: HsmKeySelector) {
    return this.translated(async () => (await this.cli.listKeys(await this.login(), selector ? filterOf(selector) : undefined)).map(info));
  }

  deleteKey(selector: HsmKeySelector) {
    return this.translated(async () => this.cli.deleteKey(await this.login(), filterOf(selector)));
  }

  shareKey(selector: HsmKeySelector, username: string, share: boolean) {
    return this.translated(async () => this.cli.shareKey(await this.login(), filterOf(selector), username, share));
  }

  wrapKey(request: { readonly payload: HsmKeySelector; readonly wrapping: HsmKeySelector; readonly mechanism: WrapMechanismName; readonly hash: WrapHashName }) {
    return this.translated(async () =>
      this.cli.wrapKey(await this.login(), { mechanism: MECHANISMS[request.mechanism], payload: filterOf(request.payload), wrapping: filterOf(request.wrapping), hash: HASHES[request.hash] }),
    );
  }

  unwrapKey(request: Parameters<ClusterAdmin['unwrapKey']>[0]) {
    return this.translated(async () => {
      const secret = SECRET_LENGTH[request.spec] !== undefined;
      const keyClass: UnwrapKeyClass = request.spec === 'AES_256' ? 'aes' : secret ? 'generic-secret' : CURVES[request.spec] ? 'ec-private' : 'rsa-private';
      const attributes: CliAttributes = { ...(secret ? secretUsage(request.usage) : pairUsage(request.usage).privateAttributes), extractable: request.extractable };
      const key = await this.cli.unwrapKey(await this.login(), {
        mechanism: MECHANISMS[request.mechanism],
        unwrapping: filterOf(request.unwrapping),
        hash: HASHES[request.hash],
        wrapped: request.wrapped,
        ...(request.iv ? { iv: request.iv } : {}),
        keyClass,
        label: request.label,
        attributes,
      });
      return info(key);
    });
  }

  importPublicKey(request: { readonly pem: string; readonly label: string; readonly keyClass: 'rsa-public' | 'ec-public'; readonly wrap: boolean; readonly verify: boolean }) {
    return this.translated(async () =>
      info(await this.cli.importPublicKey(await this.login(), { pem: request.pem, label: request.label, keyClass: request.keyClass, attributes: { wrap: request.wrap, verify: request.verify } })),
    );
  }

  replicateKey(selector: HsmKeySelector, destinationClusterId: string) {
    return this.translated(async () => {
      const destination = this.fleet.get(destinationClusterId);
      if (!destination) throw new GatewayException(GatewayExceptionCode.NotFound, `no cluster ${destinationClusterId}`);
      const there = await this.credentials.read(destination.settings.secretId, 'AWSCURRENT');
      await this.cli.replicateKey(await this.login(), filterOf(selector), cloudhsmId(this.fleet, destinationClusterId), { role: 'crypto-user', ...there });
    });
  }

  listUsers() {
    return this.translated(() => this.cli.listUsers());
  }

  createCryptoUser(username: string, password: string) {
    return this.translated(async () => this.cli.createCryptoUser(await this.adminLogin(), username, password));
  }

  deleteCryptoUser(username: string) {
    return this.translated(async () => this.cli.deleteCryptoUser(await this.adminLogin(), username));
  }

  changePassword(username: string, password: string) {
    return this.translated(async () => this.cli.changePassword(await this.adminLogin(), username, 'crypto-user', password));
  }

  private async login(): Promise<CliLogin> {
    const cluster = this.fleet.get(this.clusterId);
    if (!cluster) throw new GatewayException(GatewayExceptionCode.NotFound, `no cluster ${this.clusterId}`);
    return { role: 'crypto-user', ...(await this.credentials.read(cluster.settings.secretId, 'AWSCURRENT')) };
  }

  private async adminLogin(): Promise<CliLogin> {
    const secretId = this.fleet.get(this.clusterId)?.settings.adminSecretId;
    if (!secretId) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `cluster ${this.clusterId} has no adminSecretId: crypto users cannot be managed through the gateway`);
    return { role: 'admin', ...(await this.credentials.read(secretId, 'AWSCURRENT')) };
  }

  /** Runs a CLI step; an HSM failure becomes the gateway error the data plane would give (one classifier). */
  private async translated<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (!(err instanceof HsmException)) throw err;
      const { code, reason } = failureClassifier.classify(err);
      throw new GatewayException(code, `cluster ${this.clusterId}: ${reason}`, { cause: err });
    }
  }
}

/** The clusters of the fleet, each with its cloudhsm-cli admin plane (when a CLI is configured). */
export class CliClusterAdmins implements ClusterAdminSet {
  private readonly byId = new Map<string, CliClusterAdmin>();

  constructor(
    private readonly runner: CloudHsmCliRunner | undefined,
    private readonly fleet: ClusterFleet,
    private readonly credentials: SecretsCredentials,
  ) {}

  get(clusterId: string): CliClusterAdmin | undefined {
    if (!this.runner || !this.fleet.get(clusterId)) return undefined;
    let admin = this.byId.get(clusterId);
    if (!admin) {
      admin = new CliClusterAdmin(clusterId, this.runner, this.fleet, this.credentials);
      this.byId.set(clusterId, admin);
    }
    return admin;
  }
}

function cloudhsmId(fleet: ClusterFleet, clusterId: string): string {
  return fleet.get(clusterId)?.settings.cloudhsmClusterId ?? clusterId;
}

function secretUsage(usage: KeyUsage): CliAttributes {
  switch (usage) {
    case 'ENCRYPT_DECRYPT':
      return { encrypt: true, decrypt: true };
    case 'WRAP_UNWRAP':
      return { wrap: true, unwrap: true };
    case 'GENERATE_VERIFY_MAC':
    case 'SIGN_VERIFY':
      return { sign: true, verify: true };
  }
}

function pairUsage(usage: KeyUsage): { privateAttributes: CliAttributes; publicAttributes: CliAttributes } {
  return usage === 'WRAP_UNWRAP' ? { privateAttributes: { unwrap: true }, publicAttributes: { wrap: true } } : { privateAttributes: { sign: true }, publicAttributes: { verify: true } };
}

function filterOf(selector: HsmKeySelector): KeyFilter {
  return selector.keyClass ? { label: selector.label, keyClass: selector.keyClass } : { label: selector.label };
}

function info(key: CliKey): HsmKeyInfo {
  return {
    reference: key.reference,
    label: key.label,
    keyClass: key.keyClass,
    keyType: key.keyType,
    owners: key.owners,
    sharedWith: key.sharedWith,
    extractable: key.attributes['extractable'] === true,
  };
}
