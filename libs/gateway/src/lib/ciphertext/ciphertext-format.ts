import { GatewayException, GatewayExceptionCode } from '../gateway.exception';

/**
 * The gateway's ciphertext, self-describing so that `Decrypt` needs nothing else:
 *
 * | bytes | field |
 * | --- | --- |
 * | 1 | magic `0x4b` ("K") |
 * | 1 | format version (1) |
 * | 1 | algorithm (1 = AES-256-GCM, 96-bit IV, 128-bit tag) |
 * | 1 + n | key alias: length n (1..255), UTF-8 |
 * | 4 | key version, unsigned big-endian |
 * | 1 + m | IV: length m, bytes (the IV the HSM really used) |
 * | rest | ciphertext, then the 16-byte tag |
 *
 * Everything before the ciphertext (the header) is authenticated together with the
 * encryption context, so changing alias, version or algorithm breaks the tag.
 */
export interface CiphertextBlob {
  readonly keyAlias: string;
  readonly keyVersion: number;
  readonly iv: Buffer;
  /** Ciphertext || tag. */
  readonly sealed: Buffer;
}

const MAGIC = 0x4b;
const FORMAT_V1 = 1;
const AES_256_GCM = 1;
const TAG_BYTES = 16;

/** The header of a blob: the part written before the IV is known is everything but the IV. */
export function ciphertextHeader(keyAlias: string, keyVersion: number): Buffer {
  // One allocation: this runs twice per encrypt (the AAD, then the blob), on the hot path.
  const header = Buffer.allocUnsafe(headerLength(keyAlias));
  writeHeader(header, keyAlias, keyVersion);
  return header;
}

export function encodeCiphertext(blob: CiphertextBlob): Buffer {
  const headerBytes = headerLength(blob.keyAlias);
  const out = Buffer.allocUnsafe(headerBytes + 1 + blob.iv.length + blob.sealed.length);
  writeHeader(out, blob.keyAlias, blob.keyVersion);
  out[headerBytes] = blob.iv.length;
  blob.iv.copy(out, headerBytes + 1);
  blob.sealed.copy(out, headerBytes + 1 + blob.iv.length);
  return out;
}

/** Bytes of the header for this alias; throws if the alias is empty or longer than 255 bytes. */
function headerLength(keyAlias: string): number {
  const aliasBytes = Buffer.byteLength(keyAlias, 'utf8');
  if (aliasBytes < 1 || aliasBytes > 255) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'key alias must be 1..255 bytes');
  return 4 + aliasBytes + 4;
}

/** Writes magic, format, algorithm, alias and version at the start of `out` (sized by headerLength). */
function writeHeader(out: Buffer, keyAlias: string, keyVersion: number): void {
  out[0] = MAGIC;
  out[1] = FORMAT_V1;
  out[2] = AES_256_GCM;
  const aliasBytes = out.write(keyAlias, 4, 'utf8');
  out[3] = aliasBytes;
  out.writeUInt32BE(keyVersion, 4 + aliasBytes);
}

/** Parses a blob; anything malformed is the same error a wrong tag gives, so nothing about the input leaks. */
export function decodeCiphertext(bytes: Buffer): CiphertextBlob & { readonly header: Buffer } {
  const fail = () => new GatewayException(GatewayExceptionCode.InvalidArgument, 'ciphertext authentication failed');
  if (bytes.length < 4 || bytes[0] !== MAGIC || bytes[1] !== FORMAT_V1 || bytes[2] !== AES_256_GCM) throw fail();
  const aliasLength = bytes[3] as number;
  let at = 4 + aliasLength;
  if (aliasLength === 0 || bytes.length < at + 4 + 1) throw fail();
  const keyAlias = bytes.subarray(4, at).toString('utf8');
  const keyVersion = bytes.readUInt32BE(at);
  at += 4;
  const header = bytes.subarray(0, at);
  const ivLength = bytes[at] as number;
  at += 1;
  if (ivLength === 0 || bytes.length < at + ivLength + TAG_BYTES) throw fail();
  const iv = bytes.subarray(at, at + ivLength);
  return { keyAlias, keyVersion, iv, sealed: bytes.subarray(at + ivLength), header };
}

/**
 * Additional authenticated data: the blob header, then the encryption context in a
 * canonical form (entries sorted by key, each key and value length-prefixed), so the same
 * context in any order authenticates and no two contexts encode alike.
 */
export function additionalData(header: Buffer, context: Readonly<Record<string, string>>): Buffer {
  const keys = Object.keys(context);
  // No context (most calls): the AAD is the header itself, a copy would only make garbage.
  if (keys.length === 0) return header;
  const parts: Buffer[] = [header];
  for (const key of keys.sort()) {
    for (const text of [key, context[key] ?? '']) {
      const bytes = Buffer.from(text, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      parts.push(length, bytes);
    }
  }
  return Buffer.concat(parts);
}
