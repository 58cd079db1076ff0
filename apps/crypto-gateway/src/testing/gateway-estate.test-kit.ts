// A small HSM estate for the gateway's integration tests and benchmark: SoftHSM2 tokens
// (one per "cluster", crypto user app) holding the same keys, imported from material made
// here so that every cluster can decrypt what another encrypted, the crypto user's
// credentials in cloudhsm-local's Secrets Manager, and the gateway's clusters file.
import { execFileSync } from 'node:child_process';
import { createCipheriv, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as pkcs11js from 'pkcs11js';
import { additionalData, ciphertextHeader, encodeCiphertext } from '@keyfleet/gateway';

const MODULE = process.env['PKCS11_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';
/** CKA_EC_PARAMS (the DER of the curve's OID) and the size of a coordinate, per curve. */
const EC_CURVES = {
  'P-256': { params: Buffer.from('06082a8648ce3d030107', 'hex'), coordinateBytes: 32 },
  'P-384': { params: Buffer.from('06052b81040022', 'hex'), coordinateBytes: 48 },
} as const;

export interface EstateCluster {
  readonly id: string;
  readonly tokenLabel: string;
  readonly secretId: string;
}

export interface GatewayEstate {
  readonly dir: string;
  readonly clusters: readonly EstateCluster[];
  /** The gateway's clusters file (pools, ring `main` with the given weights, keys). */
  readonly clustersFile: string;
  /** Public keys of the signing keys, to check signatures independently. */
  readonly publicKeys: Readonly<Record<'receipts' | 'receipts384' | 'statements', KeyObject>>;
  /** The HMAC keys' bytes (test material only), to check MACs independently. */
  readonly macKeys: Readonly<Record<'sessions' | 'sessions384' | 'sessions512', Buffer>>;
  /** A ciphertext of `orders` version 1 made outside the gateway (an independent writer of the format). */
  sealOrdersV1(plaintext: Buffer, context: Readonly<Record<string, string>>): Buffer;
  /** The crypto user's current password (= token PIN) of a cluster; for the benchmark's direct baseline. */
  pin(clusterId: string): string;
  /** Sets a new password for a cluster's crypto user: new token PIN and a new AWSCURRENT secret version. */
  rotatePassword(clusterId: string): Promise<void>;
  remove(): void;
}

/**
 * Key aliases of the estate: `orders` (AES-256, versions 1 and 2), `receipts` (EC P-256),
 * `receipts384` (EC P-384), `statements` (RSA-2048), `sessions`, `sessions384` and
 * `sessions512` (HMAC-256, -384 and -512: the gateway takes an HMAC algorithm only with the
 * key spec of its size), and `disabled`.
 */
export async function createGatewayEstate(suite: string, clusterIds: readonly string[], weights: readonly number[], poolSize = 8): Promise<GatewayEstate> {
  if (!process.env['SOFTHSM2_CONF'] || !process.env['CLOUDHSM_LOCAL_ENDPOINT']) throw new Error('run with "npm run test:integration" (needs SOFTHSM2_CONF and CLOUDHSM_LOCAL_ENDPOINT)');
  const id = `${suite}-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `gw-${id}-`));
  const secrets = new SecretsManagerClient({
    endpoint: process.env['CLOUDHSM_LOCAL_ENDPOINT'],
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const material = {
    orders1: randomBytes(32),
    orders2: randomBytes(32),
    sessions: randomBytes(32),
    // As long as the hash's output: SoftHSM2 refuses shorter keys for CKM_SHA384_HMAC and CKM_SHA512_HMAC.
    sessions384: randomBytes(48),
    sessions512: randomBytes(64),
    receipts: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    receipts384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    statements: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  };
  const clusters: EstateCluster[] = [];
  const pins = new Map<string, string>();
  for (const clusterId of clusterIds) {
    const tokenLabel = `${id}/${clusterId}`.slice(0, 32);
    const pin = randomBytes(12).toString('hex');
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', tokenLabel, '--so-pin', randomBytes(8).toString('hex'), '--pin', pin], { stdio: 'ignore' });
    importKeys(tokenLabel, pin, material);
    const secretId = `keyfleet/test/${id}/${clusterId}`;
    await secrets.send(new CreateSecretCommand({ Name: secretId, SecretString: JSON.stringify({ username: 'app', password: pin }) }));
    clusters.push({ id: clusterId, tokenLabel, secretId });
    pins.set(clusterId, pin);
  }
  const all = clusterIds.slice();
  const file = {
    clusters: clusters.map((c) => ({ id: c.id, tokenLabel: c.tokenLabel, secretId: c.secretId, pinFormat: 'password', poolSize, maxInFlight: 256 })),
    rings: { main: { writeCluster: all[0], weights: Object.fromEntries(all.map((c, i) => [c, weights[i] ?? 0])) } },
    keys: [
      { alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 2, versions: [1, 2].map((v) => ({ version: v, label: `orders/v${v}`, clusters: all })) },
      { alias: 'receipts', ring: 'main', spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY', currentVersion: 1, versions: [{ version: 1, label: 'receipts/v1', clusters: all }] },
      { alias: 'receipts384', ring: 'main', spec: 'ECC_NIST_P384', usage: 'SIGN_VERIFY', currentVersion: 1, versions: [{ version: 1, label: 'receipts384/v1', clusters: all }] },
      { alias: 'statements', ring: 'main', spec: 'RSA_2048', usage: 'SIGN_VERIFY', currentVersion: 1, versions: [{ version: 1, label: 'statements/v1', clusters: all }] },
      { alias: 'sessions', ring: 'main', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', currentVersion: 1, versions: [{ version: 1, label: 'sessions/v1', clusters: all }] },
      { alias: 'sessions384', ring: 'main', spec: 'HMAC_384', usage: 'GENERATE_VERIFY_MAC', currentVersion: 1, versions: [{ version: 1, label: 'sessions384/v1', clusters: all }] },
      { alias: 'sessions512', ring: 'main', spec: 'HMAC_512', usage: 'GENERATE_VERIFY_MAC', currentVersion: 1, versions: [{ version: 1, label: 'sessions512/v1', clusters: all }] },
      { alias: 'disabled', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', enabled: false, currentVersion: 1, versions: [{ version: 1, label: 'orders/v1', clusters: all }] },
    ],
  };
  const clustersFile = join(dir, 'clusters.json');
  writeFileSync(clustersFile, JSON.stringify(file, null, 2));
  return {
    dir,
    clusters,
    clustersFile,
    publicKeys: { receipts: material.receipts.publicKey, receipts384: material.receipts384.publicKey, statements: material.statements.publicKey },
    macKeys: { sessions: material.sessions, sessions384: material.sessions384, sessions512: material.sessions512 },
    sealOrdersV1(plaintext, context) {
      const header = ciphertextHeader('orders', 1);
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', material.orders1, iv).setAAD(additionalData(header, context));
      const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return encodeCiphertext({ keyAlias: 'orders', keyVersion: 1, iv, sealed });
    },
    pin(clusterId) {
      const pin = pins.get(clusterId);
      if (!pin) throw new Error(`no cluster ${clusterId}`);
      return pin;
    },
    async rotatePassword(clusterId) {
      const cluster = clusters.find((c) => c.id === clusterId);
      const oldPin = pins.get(clusterId);
      if (!cluster || !oldPin) throw new Error(`no cluster ${clusterId}`);
      const newPin = randomBytes(12).toString('hex');
      setPin(cluster.tokenLabel, oldPin, newPin);
      pins.set(clusterId, newPin);
      await secrets.send(new PutSecretValueCommand({ SecretId: cluster.secretId, SecretString: JSON.stringify({ username: 'app', password: newPin }) }));
    },
    remove() {
      for (const c of clusters) {
        try {
          execFileSync('softhsm2-util', ['--delete-token', '--token', c.tokenLabel], { stdio: 'ignore' });
        } catch {
          // Already gone.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Material = {
  orders1: Buffer;
  orders2: Buffer;
  sessions: Buffer;
  sessions384: Buffer;
  sessions512: Buffer;
  receipts: { privateKey: KeyObject };
  receipts384: { privateKey: KeyObject };
  statements: { privateKey: KeyObject };
};

function withUserSession(tokenLabel: string, pin: string, work: (lib: pkcs11js.PKCS11, session: Buffer) => void): void {
  const lib = new pkcs11js.PKCS11();
  lib.load(MODULE);
  lib.C_Initialize();
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
    if (!slot) throw new Error(`no token ${tokenLabel}`);
    const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    lib.C_Login(session, pkcs11js.CKU_USER, pin);
    work(lib, session);
    lib.C_Logout(session);
    lib.C_CloseSession(session);
  } finally {
    lib.C_Finalize();
  }
}

function setPin(tokenLabel: string, oldPin: string, newPin: string): void {
  withUserSession(tokenLabel, oldPin, (lib, session) => lib.C_SetPIN(session, oldPin, newPin));
}

const b64 = (v: string | undefined) => Buffer.from(v ?? '', 'base64url');

function importKeys(tokenLabel: string, pin: string, material: Material): void {
  withUserSession(tokenLabel, pin, (lib, session) => {
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ];
    const secret = (label: string, keyType: number, value: Buffer, usage: number[]) =>
      lib.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: keyType },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_VALUE, value },
        ...common,
        ...usage.map((type) => ({ type, value: true })),
      ]);
    secret('orders/v1', pkcs11js.CKK_AES, material.orders1, [pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT]);
    secret('orders/v2', pkcs11js.CKK_AES, material.orders2, [pkcs11js.CKA_ENCRYPT, pkcs11js.CKA_DECRYPT]);
    secret('sessions/v1', pkcs11js.CKK_GENERIC_SECRET, material.sessions, [pkcs11js.CKA_SIGN, pkcs11js.CKA_VERIFY]);
    secret('sessions384/v1', pkcs11js.CKK_GENERIC_SECRET, material.sessions384, [pkcs11js.CKA_SIGN, pkcs11js.CKA_VERIFY]);
    secret('sessions512/v1', pkcs11js.CKK_GENERIC_SECRET, material.sessions512, [pkcs11js.CKA_SIGN, pkcs11js.CKA_VERIFY]);

    const ecPair = (label: string, curve: keyof typeof EC_CURVES, privateKey: KeyObject) => {
      const { params, coordinateBytes } = EC_CURVES[curve];
      const ec = privateKey.export({ format: 'jwk' });
      // CKA_EC_POINT: the uncompressed point 04 || X || Y wrapped in a DER OCTET STRING (short length form up to P-384).
      const point = Buffer.concat([Buffer.from([0x04, 1 + 2 * coordinateBytes, 0x04]), b64(ec.x), b64(ec.y)]);
      lib.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_EC_PARAMS, value: params },
        { type: pkcs11js.CKA_VALUE, value: b64(ec.d) },
        { type: pkcs11js.CKA_SIGN, value: true },
        ...common,
      ]);
      lib.C_CreateObject(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_EC_PARAMS, value: params },
        { type: pkcs11js.CKA_EC_POINT, value: point },
        { type: pkcs11js.CKA_VERIFY, value: true },
      ]);
    };
    ecPair('receipts/v1', 'P-256', material.receipts.privateKey);
    ecPair('receipts384/v1', 'P-384', material.receipts384.privateKey);

    const rsa = material.statements.privateKey.export({ format: 'jwk' });
    lib.C_CreateObject(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_LABEL, value: 'statements/v1' },
      { type: pkcs11js.CKA_MODULUS, value: b64(rsa.n) },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: b64(rsa.e) },
      { type: pkcs11js.CKA_PRIVATE_EXPONENT, value: b64(rsa.d) },
      { type: pkcs11js.CKA_PRIME_1, value: b64(rsa.p) },
      { type: pkcs11js.CKA_PRIME_2, value: b64(rsa.q) },
      { type: pkcs11js.CKA_EXPONENT_1, value: b64(rsa.dp) },
      { type: pkcs11js.CKA_EXPONENT_2, value: b64(rsa.dq) },
      { type: pkcs11js.CKA_COEFFICIENT, value: b64(rsa.qi) },
      { type: pkcs11js.CKA_SIGN, value: true },
      ...common,
    ]);
    lib.C_CreateObject(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_LABEL, value: 'statements/v1' },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_MODULUS, value: b64(rsa.n) },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: b64(rsa.e) },
      { type: pkcs11js.CKA_VERIFY, value: true },
    ]);
  });
}
