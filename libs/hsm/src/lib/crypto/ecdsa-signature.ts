import { HsmException, HsmExceptionCode } from '../hsm.exception';

// PKCS#11 CKM_ECDSA signs as r || s, each the size of the curve order (PKCS#11 v2.40 §2.3.1);
// applications expect the DER form (SEQUENCE of two INTEGERs, RFC 3279 §2.2.3).

function derInteger(value: Buffer): Buffer {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start += 1;
  let body = value.subarray(start);
  if ((body[0] ?? 0) & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
  return Buffer.concat([Buffer.from([0x02, body.length]), body]);
}

function derLength(length: number): Buffer {
  return length < 0x80 ? Buffer.from([length]) : Buffer.from([0x81, length]);
}

/** r || s (as PKCS#11 returns it) to a DER ECDSA-Sig-Value. */
export function ecdsaRawToDer(raw: Buffer): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0) throw new HsmException(HsmExceptionCode.InvalidInput, 'an ECDSA signature has an even, non-zero length');
  const half = raw.length / 2;
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30]), derLength(body.length), body]);
}

/**
 * A DER ECDSA-Sig-Value to r || s of `orderBytes` each (what C_Verify takes).
 * @throws HsmException `SignatureInvalid` when the DER is malformed or a value is too long.
 */
export function ecdsaDerToRaw(der: Buffer, orderBytes: number): Buffer {
  const invalid = () => new HsmException(HsmExceptionCode.SignatureInvalid, 'the signature is not a valid DER ECDSA signature');
  let at = 0;
  const byte = () => {
    const b = der[at];
    if (b === undefined) throw invalid();
    at += 1;
    return b;
  };
  const length = () => {
    const first = byte();
    if (first < 0x80) return first;
    if (first === 0x81) return byte();
    throw invalid();
  };
  if (byte() !== 0x30) throw invalid();
  const total = length();
  if (at + total !== der.length) throw invalid();
  const parts: Buffer[] = [];
  for (let i = 0; i < 2; i += 1) {
    if (byte() !== 0x02) throw invalid();
    const len = length();
    let value = der.subarray(at, at + len);
    if (value.length !== len || len === 0) throw invalid();
    at += len;
    while (value.length > orderBytes && value[0] === 0) value = value.subarray(1);
    if (value.length > orderBytes) throw invalid();
    parts.push(Buffer.concat([Buffer.alloc(orderBytes - value.length), value]));
  }
  if (at !== der.length) throw invalid();
  return Buffer.concat(parts);
}
