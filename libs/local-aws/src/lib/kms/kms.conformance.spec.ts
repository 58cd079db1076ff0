import {
  constants,
  createCipheriv,
  createPublicKey,
  generateKeyPairSync,
  publicEncrypt,
  randomBytes,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DescribeKeyCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
  SignCommand,
  VerifyCommand,
  type AlgorithmSpec,
  type KeySpec,
} from '@aws-sdk/client-kms';
import { AdjustableClock } from '../protocol/clock';
import { LocalAws } from '../local-aws';

/**
 * KMS key import as keyfleet's migration does it (seed: CloudHSM -> KMS), through the real
 * SDK client: the material is wrapped here exactly as `cloudhsm-cli key wrap rsa-aes` (or
 * CKM_RSA_AES_KEY_WRAP) would, imported, then used to sign; signatures verify with the
 * original public key.
 */
describe('KMS import through @aws-sdk/client-kms', () => {
  let dataDir: string;
  let server: Server;
  let localAws: LocalAws;
  let kms: KMSClient;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'local-kms-'));
    localAws = new LocalAws({ dataDir, account: '111122223333', clock: new AdjustableClock(() => Date.UTC(2026, 10, 22)) });
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

  /** RSA_AES_KEY_WRAP_SHA_*: RSA-OAEP of an ephemeral AES-256 key first, then AES-KWP (RFC 5649) of the material. */
  function rsaAesWrap(material: Buffer, wrappingKey: KeyObject, hash: 'sha1' | 'sha256'): Buffer {
    const aesKey = randomBytes(32);
    const kwp = createCipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
    const wrapped = Buffer.concat([kwp.update(material), kwp.final()]);
    return Buffer.concat([publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, aesKey), wrapped]);
  }

  async function externalKey(spec: KeySpec) {
    const created = await kms.send(new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'SIGN_VERIFY', Origin: 'EXTERNAL', Description: 'from CloudHSM' }));
    expect(created.KeyMetadata).toMatchObject({ KeyState: 'PendingImport', Origin: 'EXTERNAL', KeySpec: spec, Enabled: false });
    return created.KeyMetadata!.KeyId!;
  }

  async function importParameters(keyId: string, algorithm: AlgorithmSpec) {
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: algorithm, WrappingKeySpec: 'RSA_2048' }));
    expect(params.ParametersValidTo?.getTime()).toBe(Date.UTC(2026, 10, 23));
    return { token: params.ImportToken!, wrappingKey: createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' }) };
  }

  it('imports an EC P-256 private key with RSA_AES_KEY_WRAP_SHA_256 and signs with it', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyId = await externalKey('ECC_NIST_P256');
    const { token, wrappingKey } = await importParameters(keyId, 'RSA_AES_KEY_WRAP_SHA_256');
    const material = privateKey.export({ type: 'pkcs8', format: 'der' });
    await kms.send(
      new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: rsaAesWrap(material, wrappingKey, 'sha256'), ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }),
    );
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata).toMatchObject({ KeyState: 'Enabled', Enabled: true });

    const message = Buffer.from('payment batch 2026-11-22');
    const signed = await kms.send(new SignCommand({ KeyId: keyId, Message: message, MessageType: 'RAW', SigningAlgorithm: 'ECDSA_SHA_256' }));
    expect(verify('sha256', message, { key: publicKey, dsaEncoding: 'der' }, Buffer.from(signed.Signature!))).toBe(true);
    await expect(
      kms.send(new VerifyCommand({ KeyId: keyId, Message: message, Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })),
    ).resolves.toMatchObject({ SignatureValid: true });
    await expect(
      kms.send(new VerifyCommand({ KeyId: keyId, Message: Buffer.from('tampered'), Signature: signed.Signature, SigningAlgorithm: 'ECDSA_SHA_256' })),
    ).rejects.toMatchObject({ name: 'KMSInvalidSignatureException' });
    const exported = await kms.send(new GetPublicKeyCommand({ KeyId: keyId }));
    expect(Buffer.from(exported.PublicKey!)).toEqual(publicKey.export({ type: 'spki', format: 'der' }));
    expect(exported.SigningAlgorithms).toEqual(['ECDSA_SHA_256']);
  });

  it('imports an EC key wrapped with RSAES_OAEP_SHA_256, and an RSA key with RSA_AES_KEY_WRAP_SHA_1 that signs PSS', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const ecId = await externalKey('ECC_NIST_P256');
    const ecParams = await importParameters(ecId, 'RSAES_OAEP_SHA_256');
    const oaep = publicEncrypt({ key: ecParams.wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, ec.privateKey.export({ type: 'pkcs8', format: 'der' }));
    await kms.send(new ImportKeyMaterialCommand({ KeyId: ecId, ImportToken: ecParams.token, EncryptedKeyMaterial: oaep, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' }));

    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rsaId = await externalKey('RSA_2048');
    await expect(kms.send(new GetParametersForImportCommand({ KeyId: rsaId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    const rsaParams = await importParameters(rsaId, 'RSA_AES_KEY_WRAP_SHA_1');
    await kms.send(
      new ImportKeyMaterialCommand({
        KeyId: rsaId,
        ImportToken: rsaParams.token,
        EncryptedKeyMaterial: rsaAesWrap(rsa.privateKey.export({ type: 'pkcs8', format: 'der' }), rsaParams.wrappingKey, 'sha1'),
        ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
      }),
    );
    const message = Buffer.from('release 42');
    const signed = await kms.send(new SignCommand({ KeyId: rsaId, Message: message, SigningAlgorithm: 'RSASSA_PSS_SHA_256' }));
    const ok = verify('sha256', message, { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, Buffer.from(signed.Signature!));
    expect(ok).toBe(true);
  });

  it('refuses material of the wrong spec, undecryptable blobs, foreign and expired tokens', async () => {
    const keyId = await externalKey('ECC_NIST_P256');
    const otherId = await externalKey('ECC_NIST_P256');
    const { token, wrappingKey } = await importParameters(keyId, 'RSA_AES_KEY_WRAP_SHA_256');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'der' });
    const base = { KeyId: keyId, ImportToken: token, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const };
    await expect(kms.send(new ImportKeyMaterialCommand({ ...base, EncryptedKeyMaterial: rsaAesWrap(p384, wrappingKey, 'sha256') }))).rejects.toMatchObject({
      name: 'IncorrectKeyMaterialException',
    });
    const blob = rsaAesWrap(p256, wrappingKey, 'sha256');
    blob.writeUInt8(blob.readUInt8(blob.length - 1) ^ 0xff, blob.length - 1);
    await expect(kms.send(new ImportKeyMaterialCommand({ ...base, EncryptedKeyMaterial: blob }))).rejects.toMatchObject({ name: 'InvalidCiphertextException' });
    await expect(
      kms.send(new ImportKeyMaterialCommand({ ...base, KeyId: otherId, EncryptedKeyMaterial: rsaAesWrap(p256, wrappingKey, 'sha256') })),
    ).rejects.toMatchObject({ name: 'InvalidImportTokenException' });
    await expect(kms.send(new ImportKeyMaterialCommand({ KeyId: keyId, ImportToken: token, EncryptedKeyMaterial: rsaAesWrap(p256, wrappingKey, 'sha256') }))).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'ValidTo is required when ExpirationModel is KEY_MATERIAL_EXPIRES',
    });
    localAws.clock.advance(24 * 3_600_000 + 1);
    await expect(kms.send(new ImportKeyMaterialCommand({ ...base, EncryptedKeyMaterial: rsaAesWrap(p256, wrappingKey, 'sha256') }))).rejects.toMatchObject({
      name: 'ExpiredImportTokenException',
    });
    await expect(kms.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('x'), SigningAlgorithm: 'ECDSA_SHA_256' }))).rejects.toMatchObject({
      name: 'KMSInvalidStateException',
    });
  });

  it('schedules deletion: the key is unusable at once and gone after the window', async () => {
    const created = await kms.send(new CreateKeyCommand({ KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' }));
    const keyId = created.KeyMetadata!.KeyId!;
    const scheduled = await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    expect(scheduled).toMatchObject({ KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    await expect(kms.send(new SignCommand({ KeyId: keyId, Message: Buffer.from('x'), SigningAlgorithm: 'ECDSA_SHA_256' }))).rejects.toMatchObject({
      name: 'KMSInvalidStateException',
    });
    localAws.clock.advance(7 * 86_400_000);
    await expect(kms.send(new DescribeKeyCommand({ KeyId: keyId }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  it('imports symmetric material of exactly 32 bytes', async () => {
    const created = await kms.send(new CreateKeyCommand({ Origin: 'EXTERNAL' }));
    const keyId = created.KeyMetadata!.KeyId!;
    expect(created.KeyMetadata).toMatchObject({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT' });
    const params = await kms.send(new GetParametersForImportCommand({ KeyId: keyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_3072' }));
    const wrappingKey = createPublicKey({ key: Buffer.from(params.PublicKey!), format: 'der', type: 'spki' });
    const wrap = (m: Buffer) => publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, m);
    const base = { KeyId: keyId, ImportToken: params.ImportToken, ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE' as const };
    await expect(kms.send(new ImportKeyMaterialCommand({ ...base, EncryptedKeyMaterial: wrap(randomBytes(16)) }))).rejects.toMatchObject({
      name: 'IncorrectKeyMaterialException',
    });
    await kms.send(new ImportKeyMaterialCommand({ ...base, EncryptedKeyMaterial: wrap(randomBytes(32)) }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.KeyState).toBe('Enabled');
    await expect(kms.send(new GetPublicKeyCommand({ KeyId: keyId }))).rejects.toMatchObject({ name: 'UnsupportedOperationException' });
  });
});
