import { createHash, verify } from 'node:crypto';
import { AuditSink, FakeCluster, addKeys, clusterSet, fakeFailures, fakeKeys, immediateRetry } from '../../testing/fake-cluster.test-kit';
import { GatewayExceptionCode } from '../gateway.exception';
import { KeyDirectory, type KeyDirectoryConfig } from '../keys/key-directory';
import { GatewayCrypto, MAX_ITEMS_PER_SESSION, MAX_PLAINTEXT_BYTES, type BatchOutcome } from './gateway-crypto';

const ctx = { caller: 'spiffe://keyfleet.local/app/app-demo' };

function directory(): KeyDirectoryConfig {
  return {
    rings: { main: { writeCluster: 'blue', weights: { blue: 90, green: 10 } } },
    keys: [
      {
        alias: 'orders',
        ring: 'main',
        spec: 'AES_256',
        usage: 'ENCRYPT_DECRYPT',
        currentVersion: 2,
        versions: [
          { version: 1, label: 'orders/v1', clusters: ['blue', 'green'] },
          { version: 2, label: 'orders/v2', clusters: ['blue', 'green'] },
        ],
      },
      { alias: 'receipts', ring: 'main', spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY', currentVersion: 1, versions: [{ version: 1, label: 'receipts/v1', clusters: ['blue', 'green'] }] },
      { alias: 'sessions', ring: 'main', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', currentVersion: 1, versions: [{ version: 1, label: 'sessions/v1', clusters: ['blue'] }] },
      { alias: 'retired', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', enabled: false, currentVersion: 1, versions: [{ version: 1, label: 'retired/v1', clusters: ['blue'] }] },
    ],
  };
}

describe(GatewayCrypto.name, () => {
  let blue: FakeCluster;
  let green: FakeCluster;
  let audit: AuditSink;
  let keys: KeyDirectory;
  let sut: GatewayCrypto;

  beforeEach(() => {
    const material = fakeKeys();
    addKeys(material, { aes: ['orders/v1', 'orders/v2', 'retired/v1'], ec: ['receipts/v1'], hmac: ['sessions/v1'] });
    blue = new FakeCluster('blue', material);
    green = new FakeCluster('green', material);
    audit = new AuditSink();
    keys = new KeyDirectory(directory());
    sut = new GatewayCrypto({ directory: keys, clusters: clusterSet(blue, green), retry: immediateRetry(3), failures: fakeFailures, audit });
  });

  it('encrypts under the current version and decrypts with the same context', async () => {
    const sealed = await sut.encrypt(ctx, 'orders', Buffer.from('4111 1111'), { tenant: '42' });
    const opened = await sut.decrypt(ctx, sealed.ciphertext, { tenant: '42' });

    expect(sealed).toMatchObject({ keyAlias: 'orders', keyVersion: 2 });
    expect(opened).toEqual({ plaintext: Buffer.from('4111 1111'), keyAlias: 'orders', keyVersion: 2 });
  });

  it('keeps decrypting an older version after a newer one became current', async () => {
    const old = new GatewayCrypto({ directory: new KeyDirectory({ ...directory(), keys: directory().keys.map((k) => (k.alias === 'orders' ? { ...k, currentVersion: 1 } : k)) }), clusters: clusterSet(blue, green), retry: immediateRetry(), failures: fakeFailures, audit });
    const sealed = await old.encrypt(ctx, 'orders', Buffer.from('v1 data'), {});

    expect(await sut.decrypt(ctx, sealed.ciphertext, {})).toMatchObject({ plaintext: Buffer.from('v1 data'), keyVersion: 1 });
  });

  it('answers "ciphertext authentication failed" for a tampered ciphertext, a wrong context or garbage', async () => {
    const { ciphertext } = await sut.encrypt(ctx, 'orders', Buffer.from('data'), { a: '1' });
    const tampered = Buffer.from(ciphertext);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;

    for (const [blob, context] of [[tampered, { a: '1' }], [ciphertext, { a: '2' }], [Buffer.from('garbage'), {}]] as const) {
      await expect(sut.decrypt(ctx, blob, context)).rejects.toMatchObject({ code: GatewayExceptionCode.InvalidArgument, message: 'ciphertext authentication failed' });
    }
  });

  it('refuses bad input with the status the API promises', async () => {
    await expect(sut.encrypt(ctx, 'nope', Buffer.from('x'), {})).rejects.toMatchObject({ code: GatewayExceptionCode.NotFound });
    await expect(sut.encrypt(ctx, 'orders', Buffer.alloc(MAX_PLAINTEXT_BYTES + 1), {})).rejects.toMatchObject({ code: GatewayExceptionCode.InvalidArgument });
    await expect(sut.encrypt(ctx, 'retired', Buffer.from('x'), {})).rejects.toMatchObject({ code: GatewayExceptionCode.FailedPrecondition });
    await expect(sut.sign(ctx, 'orders', Buffer.from('x'), false, 'ECDSA_SHA_256')).rejects.toMatchObject({ code: GatewayExceptionCode.FailedPrecondition });
    await expect(sut.sign(ctx, 'receipts', Buffer.from('x'), false, 'RSASSA_PSS_SHA_256')).rejects.toMatchObject({ code: GatewayExceptionCode.FailedPrecondition });
    await expect(sut.sign(ctx, 'receipts', Buffer.from('short'), true, 'ECDSA_SHA_256')).rejects.toMatchObject({ code: GatewayExceptionCode.InvalidArgument });
    await expect(sut.generateRandom(ctx, 1025)).rejects.toMatchObject({ code: GatewayExceptionCode.InvalidArgument });
    await expect(sut.generateMac(ctx, 'sessions', Buffer.from('x'), 'HMAC_SHA_384')).rejects.toMatchObject({ code: GatewayExceptionCode.FailedPrecondition });
  });

  it('signs a message or its digest alike, and verifies', async () => {
    const message = Buffer.from('receipt 7');
    const digest = createHash('sha256').update(message).digest();
    const fromMessage = await sut.sign(ctx, 'receipts', message, false, 'ECDSA_SHA_256');

    expect(await sut.verify(ctx, 'receipts', digest, true, fromMessage.signature, 'ECDSA_SHA_256')).toMatchObject({ signatureValid: true, keyVersion: 1 });
    expect(await sut.verify(ctx, 'receipts', Buffer.from('receipt 8'), false, fromMessage.signature, 'ECDSA_SHA_256')).toMatchObject({ signatureValid: false });
    const publicKey = await sut.getPublicKey(ctx, 'receipts');
    expect(publicKey).toMatchObject({ keySpec: 'ECC_NIST_P256', signingAlgorithms: ['ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512'] });
    expect(publicKey.pem).toContain('BEGIN PUBLIC KEY');
    // The fake HSM signs the digest as a message (see the test kit), so node verifies it over the digest.
    expect(verify('sha256', digest, publicKey.pem, fromMessage.signature)).toBe(true);
  });

  it('makes data keys that decrypt to the plaintext it returned', async () => {
    const dataKey = await sut.generateDataKey(ctx, 'orders', { purpose: 'file' }, true);
    const without = await sut.generateDataKey(ctx, 'orders', {}, false);

    expect(dataKey.plaintext).toHaveLength(32);
    expect((await sut.decrypt(ctx, dataKey.ciphertextBlob, { purpose: 'file' })).plaintext.equals(dataKey.plaintext as Buffer)).toBe(true);
    expect(without.plaintext).toBeUndefined();
    expect((await sut.decrypt(ctx, without.ciphertextBlob, {})).plaintext).toHaveLength(32);
  });

  it('routes by weight: 90/10 within tolerance over 10,000 requests', async () => {
    for (let i = 0; i < 10_000; i += 1) await sut.sign(ctx, 'receipts', Buffer.alloc(32), true, 'ECDSA_SHA_256');

    expect(blue.calls + green.calls).toBe(10_000);
    expect(green.calls / 10_000).toBeGreaterThan(0.085);
    expect(green.calls / 10_000).toBeLessThan(0.115);
  });

  it('fails over to the other cluster on a retryable failure, and skips a cluster whose breaker is open', async () => {
    blue.failAlways = true;
    const results = await Promise.all(Array.from({ length: 50 }, () => sut.encrypt(ctx, 'orders', Buffer.from('x'), {})));
    expect(results).toHaveLength(50);

    blue.failAlways = false;
    blue.unavailable = true;
    blue.calls = 0;
    await sut.encrypt(ctx, 'orders', Buffer.from('x'), {});
    expect(blue.calls).toBe(0);
  });

  it('hands the caller\'s deadline to the cluster\'s guard, for single operations and shared-session batches', async () => {
    const deadline = Date.now() + 60_000;
    await sut.encrypt({ ...ctx, deadline }, 'orders', Buffer.from('x'), {});
    blue.withSessionBatches();
    green.withSessionBatches();
    const outcomes = await sut.encryptBatch({ ...ctx, deadline }, ['y', 'z'].map((p) => ({ alias: 'orders', plaintext: Buffer.from(p), context: {} })));

    expect(outcomes.every((o) => o.ok !== undefined)).toBe(true);
    const given = [...blue.guardDeadlines, ...green.guardDeadlines];
    // One guard for the single call, one per cluster the batch's items went to.
    expect(given.length).toBeGreaterThanOrEqual(2);
    expect(new Set(given)).toEqual(new Set([deadline]));
  });

  it('answers UNAVAILABLE when no healthy cluster holds the key', async () => {
    blue.unavailable = true;

    await expect(sut.generateMac(ctx, 'sessions', Buffer.from('x'), 'HMAC_SHA_256')).rejects.toMatchObject({ code: GatewayExceptionCode.Unavailable, message: 'no healthy cluster can serve key sessions' });
  });

  it('serves from a zero-weight cluster holding the key when no weighted cluster is healthy', async () => {
    keys.setWeights('main', { blue: 100, green: 0 });
    blue.unavailable = true;
    green.calls = 0;

    await sut.encrypt(ctx, 'orders', Buffer.from('x'), {});

    expect(green.calls).toBe(1);
  });

  it('refuses an alias longer than any key can have, and still writes a valid record without it', async () => {
    const alias = 'a'.repeat(300);

    await expect(sut.encrypt(ctx, alias, Buffer.from('x'), {})).rejects.toMatchObject({ code: GatewayExceptionCode.InvalidArgument, message: 'key_alias is at most 128 characters' });

    const record = audit.records.at(-1);
    expect(record).toMatchObject({ operation: 'encrypt', outcome: 'INVALID_ARGUMENT' });
    expect(record?.keyAlias).toBeUndefined();
  });

  it('follows weight changes at run time', async () => {
    keys.setWeights('main', { blue: 0, green: 100 });
    blue.calls = 0;
    for (let i = 0; i < 200; i += 1) await sut.encrypt(ctx, 'orders', Buffer.from('x'), {});

    expect(blue.calls).toBe(0);
  });

  it('writes one audit record per operation, success or failure, and never any data', async () => {
    const { ciphertext } = await sut.encrypt(ctx, 'orders', Buffer.from('top secret'), {});
    await sut.decrypt(ctx, ciphertext, { wrong: 'context' }).catch(() => undefined);
    await sut.encrypt(ctx, 'nope', Buffer.from('x'), {}).catch(() => undefined);
    await sut.generateRandom(ctx, 16);

    expect(audit.records.map((r) => [r.operation, r.keyAlias, r.keyVersion, r.outcome])).toEqual([
      ['encrypt', 'orders', 2, 'ok'],
      ['decrypt', 'orders', 2, 'INVALID_ARGUMENT'],
      ['encrypt', 'nope', undefined, 'NOT_FOUND'],
      ['generate-random', undefined, undefined, 'ok'],
    ]);
    expect(audit.records[0]).toMatchObject({ caller: ctx.caller, attempts: 1, items: 1 });
    expect(JSON.stringify(audit.records)).not.toContain(ciphertext.toString('base64'));
  });

  it('refuses operations while the audit trail cannot be written (fail closed)', async () => {
    audit.accepting = false;

    await expect(sut.encrypt(ctx, 'orders', Buffer.from('x'), {})).rejects.toMatchObject({ code: GatewayExceptionCode.Unavailable });
    expect(blue.calls + green.calls).toBe(0);
  });

  it('withholds the result of an operation whose record can no longer be written (the trail failed while it ran)', async () => {
    const signing = sut.sign(ctx, 'receipts', Buffer.from('x'), false, 'ECDSA_SHA_256');
    audit.accepting = false;

    await expect(signing).rejects.toMatchObject({ code: GatewayExceptionCode.Unavailable, message: 'the audit trail cannot be written; operations are refused until it can' });
    expect(blue.calls + green.calls).toBe(1);
    expect(audit.records).toEqual([]);
  });

  it('withholds the result of an operation whose record the trail refuses', async () => {
    audit.refusing = true;

    await expect(sut.encrypt(ctx, 'orders', Buffer.from('x'), {})).rejects.toMatchObject({ code: GatewayExceptionCode.Unavailable, message: 'the audit trail cannot be written; operations are refused until it can' });
    expect(blue.calls + green.calls).toBe(1);
    expect(audit.records).toEqual([]);
  });

  describe('batches', () => {
    const plaintexts = (n: number) => Array.from({ length: n }, (_, i) => ({ alias: 'orders', plaintext: Buffer.from(`item ${i}`), context: { n: String(i) } }));
    const codes = <T>(outcomes: BatchOutcome<T>[]) => outcomes.map((o) => (o.error ? o.error.code : 'ok'));

    beforeEach(() => {
      blue.withSessionBatches();
      green.withSessionBatches();
      keys.setWeights('main', { blue: 100, green: 0 });
    });

    it('runs the items of a cluster in shared sessions of at most MAX_ITEMS_PER_SESSION, each with its own result and audit record', async () => {
      const items = plaintexts(MAX_ITEMS_PER_SESSION + 8);

      const sealed = await sut.encryptBatch(ctx, items);

      expect(blue.sessionBatches).toEqual([MAX_ITEMS_PER_SESSION, 8]);
      expect(blue.calls).toBe(2);
      const opened = await Promise.all(sealed.map((o, i) => sut.decrypt(ctx, o.ok?.ciphertext as Buffer, { n: String(i) })));
      expect(opened.map((o) => o.plaintext.toString())).toEqual(items.map((i) => i.plaintext.toString()));
      const records = audit.records.slice(0, items.length);
      expect(records).toHaveLength(items.length);
      expect(records.every((r) => r.operation === 'encrypt' && r.outcome === 'ok' && r.attempts === 1 && r.clusterId === 'blue' && r.keyVersion === 2 && r.items === 1)).toBe(true);
    });

    it('fails a bad item alone, with its own status and record', async () => {
      const items = [...plaintexts(2), { alias: 'nope', plaintext: Buffer.from('x'), context: {} }, { alias: 'orders', plaintext: Buffer.alloc(MAX_PLAINTEXT_BYTES + 1), context: {} }];

      const outcomes = await sut.encryptBatch(ctx, items);

      expect(codes(outcomes)).toEqual(['ok', 'ok', GatewayExceptionCode.NotFound, GatewayExceptionCode.InvalidArgument]);
      expect(blue.sessionBatches).toEqual([2]);
      expect(audit.records.map((r) => [r.keyAlias, r.outcome])).toEqual([
        ['nope', 'NOT_FOUND'],
        ['orders', 'INVALID_ARGUMENT'],
        ['orders', 'ok'],
        ['orders', 'ok'],
      ]);
    });

    it('retries the items of a failed shared attempt one by one, on another cluster first', async () => {
      keys.setWeights('main', { blue: 50, green: 50 });
      blue.failSessionBatches = true;
      const random = () => 0.1; // always blue first
      sut = new GatewayCrypto({ directory: keys, clusters: clusterSet(blue, green), retry: immediateRetry(3), failures: fakeFailures, audit, random });

      const outcomes = await sut.encryptBatch(ctx, plaintexts(5));

      expect(codes(outcomes)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
      expect(blue.sessionBatches).toEqual([5]);
      expect(green.sessionBatches).toEqual([]);
      expect(audit.records.map((r) => [r.clusterId, r.attempts])).toEqual(Array.from({ length: 5 }, () => ['green', 2]));
    });

    it('does not retry an item whose failure is its own, and decrypts the others', async () => {
      const sealed = await sut.encryptBatch(ctx, plaintexts(3));
      const blobs = sealed.map((o, i) => ({ ciphertext: o.ok?.ciphertext as Buffer, context: { n: String(i) } }));
      blobs[1] = { ciphertext: blobs[1]?.ciphertext as Buffer, context: { n: 'wrong' } };
      blobs.push({ ciphertext: Buffer.from('garbage'), context: { n: '3' } });
      blue.sessionBatches.length = 0;

      const opened = await sut.decryptBatch(ctx, blobs);

      expect(codes(opened)).toEqual(['ok', GatewayExceptionCode.InvalidArgument, 'ok', GatewayExceptionCode.InvalidArgument]);
      expect(opened[1]?.error?.message).toBe('ciphertext authentication failed');
      expect(opened[2]?.ok).toMatchObject({ plaintext: Buffer.from('item 2'), keyAlias: 'orders', keyVersion: 2 });
      expect(blue.sessionBatches).toEqual([3]);
      expect(blue.calls).toBe(2);
    });

    it('signs messages and digests in a shared session, with the algorithm each item asked for', async () => {
      const message = Buffer.from('receipt 9');
      const digest = createHash('sha256').update(message).digest();

      const signed = await sut.signBatch(ctx, [
        { alias: 'receipts', message, isDigest: false, algorithm: 'ECDSA_SHA_256' },
        { alias: 'receipts', message: digest, isDigest: true, algorithm: 'ECDSA_SHA_256' },
        { alias: 'receipts', message: Buffer.from('short'), isDigest: true, algorithm: 'ECDSA_SHA_256' },
      ]);

      expect(codes(signed)).toEqual(['ok', 'ok', GatewayExceptionCode.InvalidArgument]);
      expect(blue.sessionBatches).toEqual([2]);
      const pem = (await sut.getPublicKey(ctx, 'receipts')).pem;
      for (const outcome of signed.slice(0, 2)) {
        expect(outcome.ok).toMatchObject({ keyAlias: 'receipts', keyVersion: 1, signingAlgorithm: 'ECDSA_SHA_256' });
        expect(verify('sha256', digest, pem, outcome.ok?.signature as Buffer)).toBe(true);
      }
    });

    it('takes the per-item path on a cluster that cannot share sessions', async () => {
      blue.inOneSession = undefined;

      const outcomes = await sut.encryptBatch(ctx, plaintexts(4));

      expect(codes(outcomes)).toEqual(['ok', 'ok', 'ok', 'ok']);
      expect(blue.sessionBatches).toEqual([]);
      expect(blue.calls).toBe(4);
    });

    it('refuses every item while the audit trail cannot be written', async () => {
      audit.accepting = false;

      const outcomes = await sut.encryptBatch(ctx, plaintexts(3));

      expect(codes(outcomes)).toEqual(Array.from({ length: 3 }, () => GatewayExceptionCode.Unavailable));
      expect(blue.calls + green.calls).toBe(0);
    });
  });
});
