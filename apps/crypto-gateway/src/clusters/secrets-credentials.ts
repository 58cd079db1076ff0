import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HsmException, HsmExceptionCode } from '@keyfleet/hsm';

/**
 * Crypto-user credentials from the secret store (Secrets Manager protocol; cloudhsm-local
 * locally). Read at each login, never cached here and never logged, so a rotated password
 * reaches the next login (a pool rebuilt by `ClusterRuntime.reconnect`). The secret holds
 * `{"username": ..., "password": ...}` under the AWSCURRENT label.
 */
export class SecretsCredentials {
  constructor(private readonly client: SecretsManagerClient) {}

  /** The PIN for C_Login: `user:password` (CloudHSM) or the password alone (a SoftHSM2 token). */
  async pin(secretId: string, format: 'user:password' | 'password'): Promise<string> {
    let secret: string | undefined;
    try {
      secret = (await this.client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (err) {
      throw new HsmException(HsmExceptionCode.LoginFailed, `cannot read the credentials secret ${secretId}`, { cause: err });
    }
    let parsed: { username?: unknown; password?: unknown };
    try {
      parsed = JSON.parse(secret ?? '') as { username?: unknown; password?: unknown };
    } catch {
      throw new HsmException(HsmExceptionCode.LoginFailed, `the secret ${secretId} is not {"username","password"} JSON`);
    }
    if (typeof parsed.username !== 'string' || typeof parsed.password !== 'string') {
      throw new HsmException(HsmExceptionCode.LoginFailed, `the secret ${secretId} lacks username or password`);
    }
    return format === 'password' ? parsed.password : `${parsed.username}:${parsed.password}`;
  }
}
