import { createPublicKey, type KeyObject } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { HsmException, HsmExceptionCode } from '../hsm.exception';

/** Named curves the gateway signs with, by the DER of their OID (CKA_EC_PARAMS). */
export const CURVES: Readonly<Record<string, { readonly name: 'P-256' | 'P-384'; readonly orderBytes: number }>> = {
  '06082a8648ce3d030107': { name: 'P-256', orderBytes: 32 },
  '06052b81040022': { name: 'P-384', orderBytes: 48 },
};

/**
 * Builds a public key from a token's public-key object: CKA_EC_PARAMS + CKA_EC_POINT for EC
 * (the point comes DER-wrapped in an OCTET STRING from SoftHSM2 and CloudHSM; a bare point
 * is accepted too), CKA_MODULUS + CKA_PUBLIC_EXPONENT for RSA.
 */
export function publicKeyFromObject(lib: pkcs11js.PKCS11, session: Buffer, handle: Buffer, keyType: number): KeyObject {
  if (keyType === pkcs11js.CKK_EC) {
    const [params, point] = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_EC_PARAMS }, { type: pkcs11js.CKA_EC_POINT }]);
    const curve = CURVES[(params?.value)?.toString('hex') ?? ''];
    if (!curve) throw new HsmException(HsmExceptionCode.KeyNotPermitted, 'the key is on a curve the gateway does not support (P-256 and P-384 only)');
    const encoded = unwrapOctetString(point?.value, curve.orderBytes);
    const x = encoded.subarray(1, 1 + curve.orderBytes);
    const y = encoded.subarray(1 + curve.orderBytes);
    return createPublicKey({ key: { kty: 'EC', crv: curve.name, x: x.toString('base64url'), y: y.toString('base64url') }, format: 'jwk' });
  }
  if (keyType === pkcs11js.CKK_RSA) {
    const [n, e] = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_MODULUS }, { type: pkcs11js.CKA_PUBLIC_EXPONENT }]);
    return createPublicKey({
      key: { kty: 'RSA', n: (n?.value as Buffer).toString('base64url'), e: (e?.value as Buffer).toString('base64url') },
      format: 'jwk',
    });
  }
  throw new HsmException(HsmExceptionCode.KeyNotPermitted, 'the key has no public key (not an EC or RSA key)');
}

/** The uncompressed point 04 || X || Y, with or without its DER OCTET STRING wrapper. */
function unwrapOctetString(value: Buffer | undefined, orderBytes: number): Buffer {
  const pointBytes = 1 + 2 * orderBytes;
  if (value?.length === pointBytes && value[0] === 0x04) return value;
  if (value && value[0] === 0x04) {
    const headerBytes = value[1] === 0x81 ? 3 : 2;
    const inner = value.subarray(headerBytes);
    if (inner.length === pointBytes && inner[0] === 0x04) return inner;
  }
  throw new HsmException(HsmExceptionCode.DeviceError, 'CKA_EC_POINT is not an uncompressed point');
}
