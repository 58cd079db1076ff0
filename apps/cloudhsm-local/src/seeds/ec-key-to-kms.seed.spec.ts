import { createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, GetParametersForImportCommand, ImportKeyMaterialCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { LocalAws, seedDemoEstate } from '@keyfleet/local-aws';

/**
 * Seed procedure (CloudHSM to KMS): an EC P-256 signing key made in a cluster is imported
 * into KMS by wrapping it in the cluster with KMS's import wrapping key (RSA_AES_KEY_WRAP_SHA_256),
 * then KMS signs and the signature verifies with the public key exported from the cluster.
 * cloudhsm-cli commands as an operator's script would run them, KMS through the real SDK.
 */
describe('seed: move an EC private key from CloudHSM into KMS', () => {
  let dataDir: string;
  let server: Server;
  let localAws: LocalAws;
  let kms: KMSClient;
  let clusterId: string;
  let blue: Record<string, string>;
  const cli = (...args: string[]) => JSON.parse(localAws.cli.run({ argv: [...args, '--cluster-id', clusterId], env: blue }).stdout) as { error_code: number; data: Record<string, unknown> & string };

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seed-kms-'));
    localAws = new LocalAws({ dataDir, account: '111122223333' });
    const estate = await seedDemoEstate(localAws, 'eu-west-1');
    clusterId = estate.clusterId;
    const { username, password } = JSON.parse(localAws.secretsManager.getSecretValue('eu-west-1', { SecretId: estate.credentials[1] }).SecretString ?? '{}') as {
      username: string;
      password: string;
    };
    blue = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `${username}:${password}` };
    server = createServer(localAws.dispatcher.listener());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    kms = new KMSClient({
      endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('wraps the key in the cluster with rsa-aes, imports it into KMS, and KMS signatures verify with the cluster public key', async () => {
    const pair = cli('key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp256r1', '--public-label', 'signer-pub', '--private-label', 'signer-priv', '--private-attributes', 'sign=true');
    expect(pair.error_code).toBe(0);
    const point = Buffer.from(String((pair.data['public_key'] as { attributes: Record<string, string> }).attributes['ec-point']).slice(2), 'hex');

    const kmsKey = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL' }));
    const keyId = kmsKey.KeyMetadata!.KeyId!;
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSA_AES_KEY_WRAP_SHA_256', WrappingKeySpec: 'RSA_2048' }));
    const pem = createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString();

    expect(cli('key', 'import', 'pem', '--pem-base64', Buffer.from(pem).toString('base64'), '--label', 'kms-wrap', '--key-type-class', 'rsa-public', '--attributes', 'wrap=true').error_code).toBe(0);
    const wrapped = cli('key', 'wrap', 'rsa-aes', '--payload-filter', 'attr.label=signer-priv', '--wrapping-filter', 'attr.label=kms-wrap', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256');
    expect(Object.keys(wrapped.data)).toEqual(['payload-key-reference', 'wrapping-key-reference', 'wrapped-key-data']);

    await kms.send(
      new ImportKeyMaterialCommand({
        KeyId: keyId,
        ImportToken: params.ImportToken,
        EncryptedKeyMaterial: Buffer.from(String(wrapped.data['wrapped-key-data']), 'base64'),
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      }),
    );
    const message = Buffer.from('invoice 2026-0042');
    const signed = await kms.send(new SignCommand({ KeyId: keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
    const clusterPublicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' });
    expect(verify('sha256', message, { key: clusterPublicKey, dsaEncoding: 'der' }, Buffer.from(signed.Signature!))).toBe(true);
  });

  it('refuses to wrap a non-extractable key, or with a key that may not wrap', () => {
    expect(cli('key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp256r1', '--public-label', 'p', '--private-label', 'locked', '--private-attributes', 'extractable=false')).toMatchObject({ error_code: 0 });
    expect(cli('key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp256r1', '--public-label', 'p2', '--private-label', 'open').error_code).toBe(0);
    const rsa = createPublicKey({ key: { kty: 'RSA', n: Buffer.alloc(256, 0xc3).toString('base64url'), e: 'AQAB' }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    expect(cli('key', 'import', 'pem', '--pem-base64', Buffer.from(rsa).toString('base64'), '--label', 'no-wrap', '--key-type-class', 'rsa-public').error_code).toBe(0);
    const wrap = (payload: string) =>
      cli('key', 'wrap', 'rsa-aes', '--payload-filter', `attr.label=${payload}`, '--wrapping-filter', 'attr.label=no-wrap', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256').data;
    expect(wrap('locked')).toBe('The payload key is not extractable');
    expect(wrap('open')).toBe('The wrapping key must be an RSA public key with wrap=true');
  });
});
