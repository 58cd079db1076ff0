import type { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HsmExceptionCode } from '@keyfleet/hsm';
import { SecretsCredentials } from './secrets-credentials';

/** A secret store answering GetSecretValue from a map of `id/stage` to SecretString; it records what was asked. */
function store(secrets: Record<string, string | undefined>) {
  const asked: { SecretId?: string; VersionStage?: string }[] = [];
  const client = {
    send: (command: GetSecretValueCommand) => {
      asked.push(command.input);
      const key = `${command.input.SecretId}/${command.input.VersionStage}`;
      if (!(key in secrets)) return Promise.reject(Object.assign(new Error('Secrets Manager can\'t find the specified secret.'), { name: 'ResourceNotFoundException' }));
      return Promise.resolve({ SecretString: secrets[key] });
    },
  } as unknown as SecretsManagerClient;
  return { client, asked };
}

describe(SecretsCredentials.name, () => {
  const password = 'Pa55-word-never-logged';

  it('makes the PIN as the library wants it: user:password for CloudHSM, the password alone for a SoftHSM2 token', async () => {
    const { client, asked } = store({ 'keyfleet/cu/AWSCURRENT': JSON.stringify({ username: 'app_blue', password }) });
    const sut = new SecretsCredentials(client);

    expect(await sut.pin('keyfleet/cu', 'user:password')).toBe(`app_blue:${password}`);
    expect(await sut.pin('keyfleet/cu', 'password')).toBe(password);
    expect(asked).toEqual([
      { SecretId: 'keyfleet/cu', VersionStage: 'AWSCURRENT' },
      { SecretId: 'keyfleet/cu', VersionStage: 'AWSCURRENT' },
    ]);
  });

  it('reads a staged password under its label', async () => {
    const sut = new SecretsCredentials(store({ 'keyfleet/cu/AWSPENDING': JSON.stringify({ username: 'app_blue', password: 'next' }) }).client);

    expect(await sut.read('keyfleet/cu', 'AWSPENDING')).toEqual({ username: 'app_blue', password: 'next' });
  });

  it.each([
    ['a secret that cannot be read', {}, 'cannot read the credentials secret keyfleet/cu (AWSCURRENT)'],
    ['a value that is not JSON', { 'keyfleet/cu/AWSCURRENT': `app_blue:${password}` }, 'the secret keyfleet/cu is not {"username","password"} JSON'],
    ['a value without a username', { 'keyfleet/cu/AWSCURRENT': JSON.stringify({ password }) }, 'the secret keyfleet/cu lacks username or password'],
  ])('refuses %s with LoginFailed naming the secret, never its value', async (_case, secrets, reason) => {
    const sut = new SecretsCredentials(store(secrets).client);
    const failure = await sut.pin('keyfleet/cu', 'user:password').catch((err: Error & { code: string }) => err);

    expect(failure).toMatchObject({ code: HsmExceptionCode.LoginFailed });
    expect((failure as Error).message).toContain(reason);
    expect(JSON.stringify(failure)).not.toContain(password);
    expect((failure as Error).message).not.toContain(password);
  });
});
