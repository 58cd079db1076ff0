import { constants, createHash, privateEncrypt, publicDecrypt, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist';
import { secp256k1 } from '@noble/curves/secp256k1';
import { CliError } from './cloudhsm-cli.error';

/** The hashes `crypto sign|verify --hash-function` names. */
export type CliHash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** The signature mechanisms of `crypto sign|verify`. */
export type CliSignatureMechanism = 'ecdsa' | 'rsa-pkcs' | 'rsa-pkcs-pss';

/** Output bytes of each hash: the length `--data` must have with `--data-type digest`. */
export const DIGEST_LENGTHS: Readonly<Record<CliHash, number>> = Object.freeze({ sha1: 20, sha224: 28, sha256: 32, sha384: 48, sha512: 64 });

export function isCliHash(name: string): name is CliHash {
  return Object.hasOwn(DIGEST_LENGTHS, name);
}

/**
 * DER of DigestInfo up to the digest (AlgorithmIdentifier with NULL parameters, then the
 * OCTET STRING header): what EMSA-PKCS1-v1_5 puts before the hash (RFC 8017 §9.2, note 1).
 */
const DIGEST_INFO_PREFIX: Readonly<Record<CliHash, Buffer>> = Object.freeze({
  sha1: Buffer.from('3021300906052b0e03021a05000414', 'hex'),
  sha224: Buffer.from('302d300d06096086480165030402040500041c', 'hex'),
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
});

/** The part of @noble/curves' ECDSA used here: signing and verifying a hash as given (`prehash: false`). */
interface RawEcdsa {
  sign(digest: Uint8Array, secretKey: Uint8Array, opts: { prehash: false }): { toBytes(format: 'compact'): Uint8Array };
  verify(signature: Uint8Array, digest: Uint8Array, publicKey: Uint8Array, opts: { prehash: false; lowS: false; format: 'compact' }): boolean;
}

/**
 * node:crypto signs a message (it always hashes first), so ECDSA over a digest someone else
 * computed needs another implementation: @noble/curves, by Node's curve name. Curves it
 * lacks (secp224r1) are refused in digest mode.
 */
const RAW_ECDSA: Readonly<Record<string, RawEcdsa>> = Object.freeze({ prime256v1: p256, secp384r1: p384, secp521r1: p521, secp256k1 });

/**
 * Signs `digest`, the already-computed `hash` of a message, as `crypto sign <mechanism>
 * --data-type digest` does: the signature is the one the raw mode gives for the message
 * (ECDSA r||s as PKCS#11's CKM_ECDSA; PKCS #1 v1.5; PSS with MGF1 of the same hash and a
 * salt as long as the hash). The caller checks the digest's length.
 */
export function signDigest(mechanism: CliSignatureMechanism, privateKey: KeyObject, hash: CliHash, digest: Buffer): Buffer {
  switch (mechanism) {
    case 'ecdsa': {
      const curve = rawEcdsa(privateKey);
      const d = Buffer.from(privateKey.export({ format: 'jwk' }).d ?? '', 'base64url');
      return Buffer.from(curve.sign(digest, d, { prehash: false }).toBytes('compact'));
    }
    case 'rsa-pkcs':
      // RSA_PKCS1_PADDING on a private-key operation is block type 1: 00 01 FF..FF 00 || data.
      return privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]));
    case 'rsa-pkcs-pss': {
      const { bytes, bits } = modulusSize(privateKey);
      const encoded = emsaPssEncode(hash, digest, bits - 1);
      // RSASP1 on the encoded message left-padded to the modulus length (RFC 8017 §8.1.1).
      return privateEncrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, Buffer.concat([Buffer.alloc(bytes - encoded.length), encoded]));
    }
  }
}

/** Checks a signature over `digest` (the `hash` of a message), the counterpart of {@link signDigest}. */
export function verifyDigest(mechanism: CliSignatureMechanism, publicKey: KeyObject, hash: CliHash, digest: Buffer, signature: Buffer): boolean {
  switch (mechanism) {
    case 'ecdsa': {
      const curve = rawEcdsa(publicKey);
      const jwk = publicKey.export({ format: 'jwk' });
      const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
      // lowS: false because node:crypto (the raw mode, other clients) does not normalise s.
      return attempt(() => curve.verify(signature, digest, point, { prehash: false, lowS: false, format: 'compact' }));
    }
    case 'rsa-pkcs': {
      const expected = Buffer.concat([DIGEST_INFO_PREFIX[hash], digest]);
      return attempt(() => {
        const recovered = publicDecrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, signature);
        return recovered.length === expected.length && timingSafeEqual(recovered, expected);
      });
    }
    case 'rsa-pkcs-pss': {
      const { bytes, bits } = modulusSize(publicKey);
      if (signature.length !== bytes) return false;
      return attempt(() => {
        // RSAVP1 (RFC 8017 §8.1.2): the encoded message is the last ceil((bits-1)/8) bytes; any byte before it must be 0.
        const opened = publicDecrypt({ key: publicKey, padding: constants.RSA_NO_PADDING }, signature);
        const emLength = Math.ceil((bits - 1) / 8);
        if (opened.subarray(0, opened.length - emLength).some((b) => b !== 0)) return false;
        return emsaPssVerify(hash, digest, opened.subarray(opened.length - emLength), bits - 1);
      });
    }
  }
}

function rawEcdsa(key: KeyObject): RawEcdsa {
  const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
  const implementation = RAW_ECDSA[curve];
  if (!implementation) throw new CliError(`--data-type digest is not supported by cloudhsm-local for ECDSA on curve ${curve}; sign the raw data instead`);
  return implementation;
}

function modulusSize(key: KeyObject): { bits: number; bytes: number } {
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  return { bits, bytes: Math.ceil(bits / 8) };
}

/** False instead of an exception: a malformed signature is an invalid one. */
function attempt(check: () => boolean): boolean {
  try {
    return check();
  } catch {
    return false;
  }
}

/** MGF1 (RFC 8017 §B.2.1): hash(seed || counter) blocks, cut to `length` bytes. */
function mgf1(hash: CliHash, seed: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * DIGEST_LENGTHS[hash] < length; counter += 1) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function xor(a: Buffer, b: Buffer): Buffer {
  return Buffer.from(a.map((byte, i) => byte ^ (b[i] ?? 0)));
}

/** H = hash(8 zero bytes || mHash || salt), the value both sides of PSS compute. */
function pssHash(hash: CliHash, digest: Buffer, salt: Buffer): Buffer {
  return createHash(hash).update(Buffer.alloc(8)).update(digest).update(salt).digest();
}

/**
 * EMSA-PSS-ENCODE (RFC 8017 §9.1.1) with salt length = hash length (what raw mode's
 * RSA_PSS_SALTLEN_DIGEST and CloudHSM's PSS use):
 * EM = maskedDB || H || 0xbc, DB = zeros || 0x01 || salt, maskedDB = DB xor MGF1(H), with
 * the top 8*emLen - emBits bits cleared so EM is below the modulus.
 */
function emsaPssEncode(hash: CliHash, digest: Buffer, emBits: number): Buffer {
  const hLen = digest.length;
  const emLen = Math.ceil(emBits / 8);
  if (emLen < 2 * hLen + 2) throw new CliError(`The RSA key is too small for rsa-pkcs-pss with ${hash}`);
  const salt = randomBytes(hLen);
  const h = pssHash(hash, digest, salt);
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([0x01]), salt]);
  const maskedDb = xor(db, mgf1(hash, h, db.length));
  maskedDb[0] = (maskedDb[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return Buffer.concat([maskedDb, h, Buffer.from([0xbc])]);
}

/** EMSA-PSS-VERIFY (RFC 8017 §9.1.2) for salt length = hash length; the hash comparison is constant-time. */
function emsaPssVerify(hash: CliHash, digest: Buffer, em: Buffer, emBits: number): boolean {
  const hLen = digest.length;
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < 2 * hLen + 2 || em[emLen - 1] !== 0xbc) return false;
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topMask = 0xff >> (8 * emLen - emBits);
  if (((maskedDb[0] ?? 0) & ~topMask) !== 0) return false;
  const db = xor(maskedDb, mgf1(hash, h, maskedDb.length));
  db[0] = (db[0] ?? 0) & topMask;
  const padding = emLen - 2 * hLen - 2;
  if (db.subarray(0, padding).some((b) => b !== 0) || db[padding] !== 0x01) return false;
  return timingSafeEqual(pssHash(hash, digest, db.subarray(db.length - hLen)), h);
}
