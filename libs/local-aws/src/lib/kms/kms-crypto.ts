import {
  constants,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';

/** KMS key specs the emulator implements, with their key parameters. */
export const ASYMMETRIC_SPECS = {
  RSA_2048: { type: 'rsa', bits: 2048 },
  RSA_3072: { type: 'rsa', bits: 3072 },
  RSA_4096: { type: 'rsa', bits: 4096 },
  ECC_NIST_P256: { type: 'ec', curve: 'prime256v1' },
  ECC_NIST_P384: { type: 'ec', curve: 'secp384r1' },
  ECC_NIST_P521: { type: 'ec', curve: 'secp521r1' },
  ECC_SECG_P256K1: { type: 'ec', curve: 'secp256k1' },
} as const;
export type AsymmetricSpec = keyof typeof ASYMMETRIC_SPECS;

export const SIGNING_ALGORITHMS = {
  RSASSA_PKCS1_V1_5_SHA_256: { family: 'rsa', hash: 'sha256', padding: constants.RSA_PKCS1_PADDING },
  RSASSA_PKCS1_V1_5_SHA_384: { family: 'rsa', hash: 'sha384', padding: constants.RSA_PKCS1_PADDING },
  RSASSA_PKCS1_V1_5_SHA_512: { family: 'rsa', hash: 'sha512', padding: constants.RSA_PKCS1_PADDING },
  RSASSA_PSS_SHA_256: { family: 'rsa', hash: 'sha256', padding: constants.RSA_PKCS1_PSS_PADDING },
  RSASSA_PSS_SHA_384: { family: 'rsa', hash: 'sha384', padding: constants.RSA_PKCS1_PSS_PADDING },
  RSASSA_PSS_SHA_512: { family: 'rsa', hash: 'sha512', padding: constants.RSA_PKCS1_PSS_PADDING },
  ECDSA_SHA_256: { family: 'ec', hash: 'sha256', padding: undefined },
  ECDSA_SHA_384: { family: 'ec', hash: 'sha384', padding: undefined },
  ECDSA_SHA_512: { family: 'ec', hash: 'sha512', padding: undefined },
} as const;
export type SigningAlgorithm = keyof typeof SIGNING_ALGORITHMS;

/** The signing algorithms KMS offers for a spec (ECDSA hash sized to the curve, as KMS does). */
export function signingAlgorithmsFor(spec: AsymmetricSpec): SigningAlgorithm[] {
  const p = ASYMMETRIC_SPECS[spec];
  if (p.type === 'rsa') return (Object.keys(SIGNING_ALGORITHMS) as SigningAlgorithm[]).filter((a) => a.startsWith('RSASSA'));
  return [({ prime256v1: 'ECDSA_SHA_256', secp256k1: 'ECDSA_SHA_256', secp384r1: 'ECDSA_SHA_384', secp521r1: 'ECDSA_SHA_512' } as const)[p.curve]];
}

export function generateAsymmetric(spec: AsymmetricSpec): KeyObject {
  const p = ASYMMETRIC_SPECS[spec];
  return p.type === 'rsa'
    ? generateKeyPairSync('rsa', { modulusLength: p.bits, publicExponent: 0x10001 }).privateKey
    : generateKeyPairSync('ec', { namedCurve: p.curve }).privateKey;
}

/** True when a PKCS#8 private key is of the spec's type and size. */
export function matchesSpec(key: KeyObject, spec: AsymmetricSpec): boolean {
  const p = ASYMMETRIC_SPECS[spec];
  const details = key.asymmetricKeyDetails;
  if (p.type === 'rsa') return key.asymmetricKeyType === 'rsa' && details?.modulusLength === p.bits;
  return key.asymmetricKeyType === 'ec' && details?.namedCurve === p.curve;
}

export function parsePkcs8(material: Buffer): KeyObject | undefined {
  try {
    return createPrivateKey({ key: material, format: 'der', type: 'pkcs8' });
  } catch {
    return undefined;
  }
}

export function spkiOf(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
}

/** RSA key sizes of import wrapping keys. */
export const WRAPPING_KEY_BITS = { RSA_2048: 2048, RSA_3072: 3072, RSA_4096: 4096 } as const;
export type WrappingKeySpec = keyof typeof WRAPPING_KEY_BITS;
export const WRAPPING_ALGORITHMS = ['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'RSA_AES_KEY_WRAP_SHA_1', 'RSA_AES_KEY_WRAP_SHA_256'] as const;
export type WrappingAlgorithm = (typeof WRAPPING_ALGORITHMS)[number];

export function generateWrappingKey(spec: WrappingKeySpec): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: WRAPPING_KEY_BITS[spec], publicExponent: 0x10001 }).privateKey;
}

/** RFC 5649's alternative initial value: the IV of AES key wrap with padding. */
const KWP_IV = Buffer.from('a65959a6', 'hex');

/**
 * Recovers imported key material. RSAES_OAEP_*: RSA-OAEP of the material. RSA_AES_KEY_WRAP_*:
 * RSA-OAEP of an ephemeral AES key (the first modulus-length bytes), then AES key wrap with
 * padding (RFC 5649) of the material, the same layout as PKCS#11's CKM_RSA_AES_KEY_WRAP.
 * Returns undefined when the blob does not decrypt.
 */
export function unwrapKeyMaterial(blob: Buffer, algorithm: WrappingAlgorithm, wrappingKey: KeyObject): Buffer | undefined {
  const oaepHash = algorithm.endsWith('SHA_1') ? 'sha1' : 'sha256';
  const rsa = (data: Buffer) => privateDecrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash }, data);
  try {
    if (algorithm.startsWith('RSAES_OAEP')) return rsa(blob);
    const modulusBytes = (wrappingKey.asymmetricKeyDetails?.modulusLength ?? 0) / 8;
    const aesKey = rsa(blob.subarray(0, modulusBytes));
    const cipher = { 16: 'id-aes128-wrap-pad', 24: 'id-aes192-wrap-pad', 32: 'id-aes256-wrap-pad' }[aesKey.length];
    if (!cipher) return undefined;
    const decipher = createDecipheriv(cipher, aesKey, KWP_IV);
    return Buffer.concat([decipher.update(blob.subarray(modulusBytes)), decipher.final()]);
  } catch {
    return undefined;
  }
}

export function signMessage(key: KeyObject, algorithm: SigningAlgorithm, message: Buffer): Buffer {
  const a = SIGNING_ALGORITHMS[algorithm];
  return sign(a.hash, message, a.padding === undefined ? { key, dsaEncoding: 'der' } : { key, padding: a.padding, saltLength: constants.RSA_PSS_SALTLEN_DIGEST });
}

export function verifyMessage(publicKey: KeyObject, algorithm: SigningAlgorithm, message: Buffer, signature: Buffer): boolean {
  const a = SIGNING_ALGORITHMS[algorithm];
  try {
    return verify(
      a.hash,
      message,
      a.padding === undefined ? { key: publicKey, dsaEncoding: 'der' } : { key: publicKey, padding: a.padding, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
      signature,
    );
  } catch {
    return false;
  }
}

export function randomToken(): Buffer {
  return randomBytes(32);
}
