import { constants, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, generatePrimeSync, sign, verify } from 'node:crypto';
import { signDigest, verifyDigest } from './digest-signature';

/** An RSA key with a 2049-bit modulus, which OpenSSL's key generation (even sizes only) cannot make. */
function oddRsaKey() {
  const e = 65537n;
  const prime = (bits: number) => generatePrimeSync(bits, { bigint: true, safe: false });
  for (;;) {
    const [p, q] = [prime(1025), prime(1024)];
    const n = p * q;
    if (n.toString(2).length !== 2049 || (p - 1n) % e === 0n || (q - 1n) % e === 0n) continue;
    const d = inverse(e, (p - 1n) * (q - 1n));
    const b64 = (v: bigint) => Buffer.from(v.toString(16).padStart(Math.ceil(v.toString(16).length / 2) * 2, '0'), 'hex').toString('base64url');
    const jwk = { kty: 'RSA', n: b64(n), e: b64(e), d: b64(d), p: b64(p), q: b64(q), dp: b64(d % (p - 1n)), dq: b64(d % (q - 1n)), qi: b64(inverse(q, p)) };
    const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
    return { privateKey, publicKey: createPublicKey(privateKey) };
  }
}

function inverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const quotient = r0 / r1;
    [r0, r1, s0, s1] = [r1, r0 - quotient * r1, s1, s0 - quotient * s1];
  }
  return ((s0 % m) + m) % m;
}

describe(signDigest.name, () => {
  const message = Buffer.from('batch 7 of 9');
  const digest = createHash('sha256').update(message).digest();

  const pss = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };

  it.each([
    // The encoded message is a byte shorter than the modulus (RFC 8017 §9.1: emLen = ceil((modBits - 1) / 8)).
    ['2049 bits (1 mod 8)', oddRsaKey],
    // The top 5 bits of the masked block are cleared.
    ['2300 bits', () => generateKeyPairSync('rsa', { modulusLength: 2300 })],
  ])('encodes and checks PSS for a modulus of %s as node:crypto does', (_size, makeKey) => {
    const { privateKey, publicKey } = makeKey();
    const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    const sut = signDigest('rsa-pkcs-pss', privateKey, 'sha256', digest);
    expect(sut).toHaveLength(Math.ceil(bits / 8));
    expect(verify('sha256', message, { key: publicKey, ...pss }, sut)).toBe(true);
    expect(verifyDigest('rsa-pkcs-pss', publicKey, 'sha256', digest, sign('sha256', message, { key: privateKey, ...pss }))).toBe(true);
  });

  it('uses a fresh salt for every PSS signature', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(signDigest('rsa-pkcs-pss', privateKey, 'sha256', digest).equals(signDigest('rsa-pkcs-pss', privateKey, 'sha256', digest))).toBe(false);
  });
});

describe(verifyDigest.name, () => {
  const digest = createHash('sha384').update('batch 8 of 9').digest();
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });

  it.each([
    ['rsa-pkcs', 'empty', Buffer.alloc(0)],
    ['rsa-pkcs', 'too short', Buffer.alloc(255, 1)],
    ['rsa-pkcs', 'not below the modulus', Buffer.alloc(256, 0xff)],
    ['rsa-pkcs-pss', 'too long', Buffer.alloc(257, 1)],
    ['rsa-pkcs-pss', 'not below the modulus', Buffer.alloc(256, 0xff)],
    ['rsa-pkcs-pss', 'random', Buffer.alloc(256, 0x5a)],
    ['ecdsa', 'the wrong size', Buffer.alloc(64, 1)],
    ['ecdsa', 'zero', Buffer.alloc(96)],
  ] as const)('reports a malformed %s signature (%s) as invalid instead of throwing', (mechanism, _what, signature) => {
    const key = mechanism === 'ecdsa' ? ec.publicKey : rsa.publicKey;
    expect(verifyDigest(mechanism, key, 'sha384', digest, signature)).toBe(false);
  });

  it('rejects a PKCS #1 v1.5 signature made over the same digest with another hash\'s DigestInfo', () => {
    const sha512Info = signDigest('rsa-pkcs', rsa.privateKey, 'sha512', Buffer.concat([digest, Buffer.alloc(16)]));
    expect(verifyDigest('rsa-pkcs', rsa.publicKey, 'sha384', digest, sha512Info)).toBe(false);
    expect(verifyDigest('rsa-pkcs', rsa.publicKey, 'sha384', digest, signDigest('rsa-pkcs', rsa.privateKey, 'sha384', digest))).toBe(true);
  });
});
