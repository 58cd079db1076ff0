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

  it('writes exactly the version 1 bytes, so blobs of earlier builds stay readable', () => {
    const iv = Buffer.from('000102030405060708090a0b', 'hex');
    const sealed = Buffer.from('ffeeddccbbaa99887766554433221100a0a1a2', 'hex');

    // magic 4b, format 01, algorithm 01, alias length 06 "orders", version 01020304, IV length 0c, IV, sealed.
    expect(encodeCiphertext({ keyAlias: 'orders', keyVersion: 0x01020304, iv, sealed }).toString('hex')).toBe(
      '4b0101066f7264657273010203040c000102030405060708090a0bffeeddccbbaa99887766554433221100a0a1a2',
    );
    // The alias length counts UTF-8 bytes; context entries sorted by key, each length-prefixed.
    expect(additionalData(ciphertextHeader('ключ', 7), { tenant: '7', a: 'é' }).toString('hex')).toBe(
      '4b010108d0bad0bbd18ed18700000007000000016100000002c3a90000000674656e616e740000000137',
    );
    expect(additionalData(ciphertextHeader('k', 1), {}).toString('hex')).toBe('4b0101016b00000001');
  });

  it('refuses an alias of no bytes or of more than 255 bytes', () => {
    expect(() => ciphertextHeader('', 1)).toThrow('key alias must be 1..255 bytes');
    expect(() => encodeCiphertext({ keyAlias: 'é'.repeat(128), keyVersion: 1, iv: randomBytes(12), sealed: randomBytes(16) })).toThrow('key alias must be 1..255 bytes');
    expect(ciphertextHeader('a'.repeat(255), 1)).toHaveLength(263);
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
