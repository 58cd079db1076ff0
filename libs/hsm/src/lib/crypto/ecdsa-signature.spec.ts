import { generateKeyPairSync, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import { HsmExceptionCode } from '../hsm.exception';
import { ecdsaDerToRaw, ecdsaRawToDer } from './ecdsa-signature';

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return (err as { code: string }).code;
  }
}

describe(ecdsaRawToDer.name, () => {
  it.each([
    ['P-256', 32],
    ['P-384', 48],
  ])('turns a %s r||s signature into DER that node:crypto verifies, and back', (curve, orderBytes) => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
    for (let i = 0; i < 20; i += 1) {
      const message = Buffer.from(`message ${i}`);
      const raw = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);

      expect(verify('sha256', message, publicKey, der)).toBe(true);
      expect(ecdsaDerToRaw(der, orderBytes).equals(raw)).toBe(true);
    }
  });

  it('round-trips any r and s, including leading zeros and high bits', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), (bytes) => {
        const raw = Buffer.from(bytes);
        expect(ecdsaDerToRaw(ecdsaRawToDer(raw), 32).equals(raw)).toBe(true);
      }),
    );
  });

  it('refuses malformed DER as an invalid signature', () => {
    for (const bad of ['', '30', '3006020101020101ff', '300602010102010', '310602010102010102']) {
      expect(codeOf(() => ecdsaDerToRaw(Buffer.from(bad, 'hex'), 32))).toBe(HsmExceptionCode.SignatureInvalid);
    }
  });
});
