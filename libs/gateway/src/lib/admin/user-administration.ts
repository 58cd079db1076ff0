import { GatewayException, GatewayExceptionCode } from '../gateway.exception';
import type { ClusterAdmin, ClusterAdminSet, CredentialStore } from './admin.ports';

const USERNAME = /^[A-Za-z0-9_]{1,31}$/;

/**
 * Crypto users of a cluster, through its admin interface. Passwords are never request
 * fields: they are read from the secret store (`secretId`, under AWSCURRENT for a new user
 * and AWSPENDING, by default, for a password change, as a rotation stages it), so they
 * travel neither over gRPC nor through Kafka.
 */
export class UserAdministration {
  constructor(
    private readonly clusters: ClusterAdminSet,
    private readonly credentials: CredentialStore,
  ) {}

  async listUsers(clusterId: string) {
    return { clusterId, users: await this.admin(clusterId).listUsers() };
  }

  /** Creates the crypto user named in the secret, with the secret's current password. */
  async createCryptoUser(clusterId: string, secretId: string, username?: string) {
    const admin = this.admin(clusterId);
    const secret = await this.secret(secretId, 'AWSCURRENT', username);
    await admin.createCryptoUser(secret.username, secret.password);
    return { clusterId, username: secret.username.toLowerCase() };
  }

  /** Deletes a crypto user; refused for the user the cluster's pool logs in as (switch the pool first). */
  async deleteCryptoUser(clusterId: string, username: string) {
    const admin = this.admin(clusterId);
    if (!USERNAME.test(username)) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'username must be 1..31 letters, digits or _');
    if ((await admin.cryptoUser()).toLowerCase() === username.toLowerCase()) {
      throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `${username} is the crypto user of cluster ${clusterId}'s pool: switch the pool to another crypto user first`);
    }
    await admin.deleteCryptoUser(username);
    return { clusterId, username: username.toLowerCase() };
  }

  /** Sets the password of the user named in the secret to the secret's value under `stage`. */
  async changePassword(clusterId: string, secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING' = 'AWSPENDING', username?: string) {
    const admin = this.admin(clusterId);
    const secret = await this.secret(secretId, stage, username);
    await admin.changePassword(secret.username, secret.password);
    return { clusterId, username: secret.username.toLowerCase(), stage };
  }

  private async secret(secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING', username: string | undefined) {
    if (!secretId) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'secret_id is required');
    const secret = await this.credentials.read(secretId, stage);
    if (!USERNAME.test(secret.username)) throw new GatewayException(GatewayExceptionCode.InvalidArgument, `the secret ${secretId} does not name a valid username`);
    if (username && username.toLowerCase() !== secret.username.toLowerCase()) {
      throw new GatewayException(GatewayExceptionCode.InvalidArgument, `the secret ${secretId} is for ${secret.username}, not ${username}`);
    }
    return secret;
  }

  private admin(clusterId: string): ClusterAdmin {
    const admin = this.clusters.get(clusterId);
    if (!admin) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `cluster ${clusterId} has no admin interface configured`);
    return admin;
  }
}
