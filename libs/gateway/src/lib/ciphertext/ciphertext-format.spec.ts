import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { additionalData, ciphertextHeader, decodeCiphertext, encodeCiphertext } from './ciphertext-format';

describe('ciphertext format', () => {
  it('decodes what it encodes, for any alias, version, IV and payload', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 2 ** 32 - 1 }),
        fc.uint8Array({ minLength: 12, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 200 }),
        (keyAlias, keyVersion, iv, sealed) => {
          const decoded = decodeCiphertext(encodeCiphertext({ keyAlias, keyVersion, iv: Buffer.from(iv), sealed: Buffer.from(sealed) }));

          expect(decoded).toMatchObject({ keyAlias, keyVersion, iv: Buffer.from(iv), sealed: Buffer.from(sealed) });
          expect(decoded.header.equals(ciphertextHeader(keyAlias, keyVersion))).toBe(true);
        },
      ),
    );
  });

  it('refuses malformed input with the same message a wrong tag gives', () => {
    const good = encodeCiphertext({ keyAlias: 'orders', keyVersion: 3, iv: randomBytes(12), sealed: randomBytes(32) });
    for (const bad of [Buffer.alloc(0), Buffer.from('hello world, not a blob'), good.subarray(0, 20), Buffer.concat([Buffer.from([0x4b, 2]), good.subarray(2)])]) {
      expect(() => decodeCiphertext(bad)).toThrow('ciphertext authentication failed');
    }
  });

  it('binds the context canonically: order does not matter, content does', () => {
    const header = ciphertextHeader('orders', 1);

    expect(additionalData(header, { a: '1', b: '2' }).equals(additionalData(header, { b: '2', a: '1' }))).toBe(true);
    expect(additionalData(header, { a: '1', b: '2' }).equals(additionalData(header, { a: '12' }))).toBe(false);
    expect(additionalData(header, { ab: '' }).equals(additionalData(header, { a: 'b' }))).toBe(false);
    expect(additionalData(header, {}).equals(additionalData(ciphertextHeader('orders', 2), {}))).toBe(false);
  });
});
