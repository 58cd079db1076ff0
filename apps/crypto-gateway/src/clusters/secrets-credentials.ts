import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CredentialStore } from '@keyfleet/gateway';
import { HsmException, HsmExceptionCode } from '@keyfleet/hsm';

/**
 * Crypto-user credentials from the secret store (Secrets Manager protocol; cloudhsm-local
 * locally). Read at each login, never cached here and never logged, so a rotated password
 * reaches the next login (a pool rebuilt by `ClusterRuntime.reconnect`). The secret holds
 * `{"username": ..., "password": ...}` under the AWSCURRENT label (AWSPENDING while a
 * rotation stages a new password).
 */
export class SecretsCredentials implements CredentialStore {
  constructor(private readonly client: SecretsManagerClient) {}

  /** The PIN for C_Login: `user:password` (CloudHSM) or the password alone (a SoftHSM2 token). */
  async pin(secretId: string, format: 'user:password' | 'password'): Promise<string> {
    const { username, password } = await this.read(secretId, 'AWSCURRENT');
    return format === 'password' ? password : `${username}:${password}`;
  }

  /** The username and password stored under `stage`. @throws HsmException LoginFailed naming the secret, never its value */
  async read(secretId: string, stage: 'AWSCURRENT' | 'AWSPENDING'): Promise<{ username: string; password: string }> {
    let secret: string | undefined;
    try {
      secret = (await this.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }))).SecretString;
    } catch (err) {
      throw new HsmException(HsmExceptionCode.LoginFailed, `cannot read the credentials secret ${secretId} (${stage})`, { cause: err });
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
    return { username: parsed.username, password: parsed.password };
  }
}
