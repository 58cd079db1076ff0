// In-memory stand-ins for the gateway's ports, for unit tests of the domain: a cluster whose
// "HSM" is node:crypto with keys by label, a retry runner without waiting, an audit sink.
import { createCipheriv, createDecipheriv, createHmac, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import type { CryptoOperationRecordedV1 } from '@keyfleet/contracts';
import { GatewayExceptionCode } from '../lib/gateway.exception';
import type { ClusterCrypto, ClusterHandle, ClusterSet, FailureClassifier, HashName, OperationAudit, RetryRunner, SchemeName, SessionBatch } from '../lib/ports';

export class FakeHsmError extends Error {
  constructor(readonly retryable: boolean, readonly code: GatewayExceptionCode, message: string) {
    super(message);
  }
}

export interface FakeKeys {
  aes: Map<string, Buffer>;
  pairs: Map<string, { privateKey: KeyObject; publicKey: KeyObject }>;
  hmac: Map<string, Buffer>;
}

export function fakeKeys(): FakeKeys {
  return { aes: new Map(), pairs: new Map(), hmac: new Map() };
}

export function addKeys(keys: FakeKeys, labels: { aes?: string[]; ec?: string[]; rsa?: string[]; hmac?: string[] }): void {
  for (const l of labels.aes ?? []) keys.aes.set(l, randomBytes(32));
  for (const l of labels.ec ?? []) keys.pairs.set(l, generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  for (const l of labels.rsa ?? []) keys.pairs.set(l, generateKeyPairSync('rsa', { modulusLength: 2048 }));
  for (const l of labels.hmac ?? []) keys.hmac.set(l, randomBytes(32));
}

/** A cluster over shared fake keys; `failNext` / `failAlways` make it fail like a busy HSM. */
export class FakeCluster implements ClusterHandle, ClusterCrypto {
  calls = 0;
  failAlways = false;
  unavailable = false;
  crypto: ClusterCrypto = this;
  /** Set by `withSessionBatches`: the batch RPCs' fast path, as `HsmCrypto` has it with a sync offload. */
  inOneSession: SessionBatch | undefined;
  /** The number of items of each session batch, in order. */
  readonly sessionBatches: number[] = [];
  /** Makes every session batch (not single calls) fail as a busy HSM would. */
  failSessionBatches = false;

  constructor(
    readonly id: string,
    private readonly keys: FakeKeys,
  ) {}

  /** Runs batches many items per session: each item as its single call would, its failure answered in its place. */
  withSessionBatches(): this {
    this.inOneSession = {
      encrypt: (items) => this.sessionBatch(items, (i) => this.encrypt(i.label, i.plaintext, i.aad)),
      decrypt: (items) => this.sessionBatch(items, (i) => this.decrypt(i.label, i.sealed, i.aad)),
      sign: (items) => this.sessionBatch(items, (i) => this.sign(i.label, i.scheme, i.hash, i.digest)),
    };
    return this;
  }

  private async sessionBatch<I, R>(items: readonly I[], run: (item: I) => Promise<R>): Promise<(R | Error)[]> {
    this.sessionBatches.push(items.length);
    if (this.failSessionBatches) throw new FakeHsmError(true, GatewayExceptionCode.Unavailable, `cluster ${this.id} is busy`);
    return Promise.all(items.map((item) => run(item).catch((err: Error) => err)));
  }

  /** The deadline each `guard` call was given, in order. */
  readonly guardDeadlines: (number | undefined)[] = [];

  guard<T>(work: () => Promise<T>, deadline?: number): Promise<T> {
    this.calls += 1;
    this.guardDeadlines.push(deadline);
    if (this.failAlways) return Promise.reject(new FakeHsmError(true, GatewayExceptionCode.Unavailable, `cluster ${this.id} is failing`));
    return work();
  }

  private aes(label: string): Buffer {
    const key = this.keys.aes.get(label);
    if (!key) throw new FakeHsmError(false, GatewayExceptionCode.NotFound, `no key ${label}`);
    return key;
  }

  encrypt(label: string, plaintext: Buffer, aad: Buffer) {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.aes(label), iv).setAAD(aad);
    return Promise.resolve({ iv, ciphertext: Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]) });
  }

  decrypt(label: string, sealed: { iv: Buffer; ciphertext: Buffer }, aad: Buffer) {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.aes(label), sealed.iv).setAAD(aad);
      decipher.setAuthTag(sealed.ciphertext.subarray(-16));
      return Promise.resolve(Buffer.concat([decipher.update(sealed.ciphertext.subarray(0, -16)), decipher.final()]));
    } catch (err) {
      if (err instanceof FakeHsmError) return Promise.reject(err);
      return Promise.reject(new FakeHsmError(false, GatewayExceptionCode.InvalidArgument, 'ciphertext authentication failed'));
    }
  }

  sign(label: string, scheme: SchemeName, hash: HashName, digest: Buffer) {
    const pair = this.keys.pairs.get(label);
    if (!pair) return Promise.reject(new FakeHsmError(false, GatewayExceptionCode.NotFound, `no key ${label}`));
    // node:crypto cannot sign a bare digest for ECDSA; the fake signs the digest as a message, and verifies the same way.
    return Promise.resolve(sign(hash, digest, { key: pair.privateKey, ...(scheme === 'rsa-pss' ? { padding: 6 } : {}) }));
  }

  verify(label: string, scheme: SchemeName, hash: HashName, digest: Buffer, signature: Buffer) {
    const pair = this.keys.pairs.get(label);
    if (!pair) return Promise.reject(new FakeHsmError(false, GatewayExceptionCode.NotFound, `no key ${label}`));
    return Promise.resolve(verify(hash, digest, { key: pair.publicKey, ...(scheme === 'rsa-pss' ? { padding: 6 } : {}) }, signature));
  }

  mac(label: string, hash: HashName, data: Buffer) {
    return Promise.resolve(createHmac(hash, this.keys.hmac.get(label) ?? Buffer.alloc(0)).update(data).digest());
  }

  async verifyMac(label: string, hash: HashName, data: Buffer, mac: Buffer) {
    return (await this.mac(label, hash, data)).equals(mac);
  }

  random(length: number) {
    return Promise.resolve(randomBytes(length));
  }

  publicKey(label: string) {
    const pair = this.keys.pairs.get(label);
    return pair ? Promise.resolve(pair.publicKey) : Promise.reject(new FakeHsmError(false, GatewayExceptionCode.NotFound, `no key ${label}`));
  }
}

export function clusterSet(...clusters: FakeCluster[]): ClusterSet {
  return { get: (id) => clusters.find((c) => c.id === id), all: () => clusters };
}

/** Tries up to `attempts` times at once (backoff is `@keyfleet/resilience`'s business, tested there). */
export function immediateRetry(attempts = 3): RetryRunner {
  return {
    async run(work, isRetryable, _deadline, firstFailure) {
      for (let i = 0; ; i += 1) {
        try {
          if (i === 0 && firstFailure) throw firstFailure.error;
          return await work(i);
        } catch (err) {
          if (i + 1 >= attempts || !isRetryable(err)) throw err;
        }
      }
    },
  };
}

export const fakeFailures: FailureClassifier = {
  classify: (err) =>
    err instanceof FakeHsmError ? { retryable: err.retryable, code: err.code, reason: err.message } : { retryable: false, code: GatewayExceptionCode.Internal, reason: 'internal error' },
};

export class AuditSink implements OperationAudit {
  accepting = true;
  /** Refuses every record while set, as a spool whose buffer is full and whose file cannot be written does. */
  refusing = false;
  readonly records: CryptoOperationRecordedV1[] = [];
  record(record: CryptoOperationRecordedV1): boolean {
    if (this.refusing) return false;
    this.records.push(record);
    return true;
  }
}
