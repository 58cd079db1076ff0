import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { LocalAws } from '../local-aws';

/** The real AWS SDK v3 client against the emulator over HTTP: shapes, errors, persistence. */
describe('Secrets Manager through @aws-sdk/client-secrets-manager', () => {
  let dataDir: string;
  let server: Server;
  let endpoint: string;
  const client = (region = 'eu-west-1') =>
    new SecretsManagerClient({ endpoint, region, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local-secret' }, maxAttempts: 1 });

  async function serve(localAws: LocalAws): Promise<void> {
    server = createServer(localAws.dispatcher.listener());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-aws-'));
    await serve(new LocalAws({ dataDir, account: '111122223333' }));
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates, reads, rotates through AWSPENDING and describes a secret', async () => {
    const sm = client();
    const created = await sm.send(new CreateSecretCommand({ Name: 'keyfleet/cu/app', SecretString: '{"username":"app","password":"p1"}' }));
    expect(created.ARN).toMatch(/^arn:aws:secretsmanager:eu-west-1:111122223333:secret:keyfleet\/cu\/app-/);
    const pending = await sm.send(
      new PutSecretValueCommand({ SecretId: 'keyfleet/cu/app', SecretString: '{"username":"app","password":"p2"}', VersionStages: ['AWSPENDING'] }),
    );
    expect(pending.VersionStages).toEqual(['AWSPENDING']);
    await sm.send(
      new UpdateSecretVersionStageCommand({
        SecretId: created.ARN,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: pending.VersionId,
        RemoveFromVersionId: created.VersionId,
      }),
    );
    const current = await sm.send(new GetSecretValueCommand({ SecretId: 'keyfleet/cu/app' }));
    expect(current).toMatchObject({ VersionId: pending.VersionId, SecretString: '{"username":"app","password":"p2"}' });
    expect(current.VersionStages).toEqual(expect.arrayContaining(['AWSCURRENT', 'AWSPENDING']));
    expect(current.CreatedDate).toBeInstanceOf(Date);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: 'keyfleet/cu/app' }));
    expect(described.VersionIdsToStages).toEqual({ [created.VersionId!]: ['AWSPREVIOUS'], [pending.VersionId!]: ['AWSPENDING', 'AWSCURRENT'] });
    expect(described.RotationEnabled).toBe(false);
  });

  it('round-trips a binary secret', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'bin', SecretBinary: new Uint8Array([0, 1, 2, 255]) }));
    const value = await sm.send(new GetSecretValueCommand({ SecretId: 'bin' }));
    expect(Array.from(value.SecretBinary ?? [])).toEqual([0, 1, 2, 255]);
  });

  it('raises the modelled exceptions with their HTTP status', async () => {
    const sm = client();
    await sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'x' }));
    await expect(sm.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'x' }))).rejects.toMatchObject({
      name: 'ResourceExistsException',
      message: 'The operation failed because the secret dup already exists.',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'missing' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(sm.send(new GetSecretValueCommand({ SecretId: 'dup' }))).resolves.toMatchObject({ SecretString: 'x' });
  });

  it('keeps regions apart', async () => {
    await client('eu-west-1').send(new CreateSecretCommand({ Name: 'regional', SecretString: 'x' }));
    await expect(client('us-east-1').send(new GetSecretValueCommand({ SecretId: 'regional' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('keeps its state across a restart', async () => {
    await client().send(new CreateSecretCommand({ Name: 'durable', SecretString: 'kept' }));
    await new Promise((resolve) => server.close(resolve));
    await serve(new LocalAws({ dataDir, account: '111122223333' }));
    await expect(client().send(new GetSecretValueCommand({ SecretId: 'durable' }))).resolves.toMatchObject({ SecretString: 'kept' });
  });

  it('answers an unsigned request and an unknown operation as AWS does', async () => {
    const unsigned = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'secretsmanager.GetSecretValue' }, body: '{}' });
    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    const auth = 'AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=00';
    const unknown = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'secretsmanager.RotateSecret', authorization: auth }, body: '{}' });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const garbage = await fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': 'secretsmanager.GetSecretValue', authorization: auth }, body: '{nope' });
    expect(await garbage.json()).toMatchObject({ __type: 'SerializationException' });
  });
});
