import { createHash } from 'node:crypto';
import type { CryptoOperation, OperationOutcome } from '@keyfleet/contracts';
import { additionalData, ciphertextHeader, decodeCiphertext, encodeCiphertext } from '../ciphertext/ciphertext-format';
import { GatewayException, GatewayExceptionCode, type OperationTrace } from '../gateway.exception';
import type { KeyDirectory, KeyUsage, ResolvedKey } from '../keys/key-directory';
import type { ClusterCrypto, ClusterHandle, ClusterSet, FailureClassifier, HashName, OperationAudit, RequestContext, RetryRunner, SchemeName, SessionBatch } from '../ports';
import { weightedChoice } from '../routing/weighted-choice';
import { DIGEST_LENGTH, macFor, signingAlgorithmsFor, signingFor, type SigningAlgorithmName } from './algorithms';

export const MAX_PLAINTEXT_BYTES = 64 * 1024;
export const MAX_RANDOM_BYTES = 1024;
/** Longest alias the key directory allows. */
export const MAX_ALIAS_LENGTH = 128;
const DATA_KEY_BYTES = 32;
/**
 * Most items of a batch that share one session (and one breaker call and bulkhead slot). A
 * session runs its items one after another: 32 AES-GCM 1 KiB items take about 2 ms on SoftHSM2
 * here; a batch of more items for one cluster spreads over more sessions.
 */
export const MAX_ITEMS_PER_SESSION = 32;
const NONE_TRIED: ReadonlySet<string> = new Set();

/** One item's outcome in a batch. */
export type BatchOutcome<T> = { readonly ok: T; readonly error?: undefined } | { readonly ok?: undefined; readonly error: GatewayException };

/** How one kind of batch item becomes a session batch's operation and back. */
interface BatchKind<I, Op, R, V> {
  readonly operation: CryptoOperation;
  /** The alias the item names, for the audit record of an item that fails before its key is known. */
  readonly aliasOf: (item: I) => string | undefined;
  /** Checks the item and finds its key. @throws GatewayException */
  readonly prepare: (item: I) => { readonly key: ResolvedKey; readonly op: Op };
  readonly inSession: (batch: SessionBatch, ops: Op[], deadline?: number) => Promise<(R | Error)[]>;
  readonly single: (crypto: ClusterCrypto, op: Op, deadline?: number) => Promise<R>;
  readonly finish: (key: ResolvedKey, result: R, item: I) => V;
}

/** A cluster's share of a batch, waiting to go out: its operations and where each answer goes. */
interface ClusterShare<Op, R> {
  readonly batch: SessionBatch;
  readonly ops: Op[];
  readonly answers: ((result: R | Error) => void)[];
}

interface EncryptOp {
  readonly label: string;
  readonly plaintext: Buffer;
  readonly aad: Buffer;
}
interface DecryptOp {
  readonly label: string;
  readonly sealed: { readonly iv: Buffer; readonly ciphertext: Buffer };
  readonly aad: Buffer;
}
interface SignOp {
  readonly label: string;
  readonly scheme: SchemeName;
  readonly hash: HashName;
  readonly digest: Buffer;
}

export type EncryptionContext = Readonly<Record<string, string>>;

export interface GatewayCryptoDependencies {
  readonly directory: KeyDirectory;
  readonly clusters: ClusterSet;
  readonly retry: RetryRunner;
  readonly failures: FailureClassifier;
  readonly audit: OperationAudit;
  readonly random?: () => number;
}

/** The result of one item, with what the audit record needs. */
interface Traced<T> {
  readonly value: T;
  readonly trace: OperationTrace;
}

/**
 * The crypto API's behaviour, transport-free: key lookup by alias and version, routing by
 * weight among healthy clusters holding the key, retries (a retry may go to another
 * cluster), the ciphertext format, and one audit record per operation.
 */
export class GatewayCrypto {
  constructor(private readonly deps: GatewayCryptoDependencies) {}

  async encrypt(ctx: RequestContext, alias: string, plaintext: Buffer, context: EncryptionContext) {
    return this.audited(ctx, 'encrypt', alias, async () => {
      if (plaintext.length > MAX_PLAINTEXT_BYTES) throw invalid(`plaintext is larger than ${MAX_PLAINTEXT_BYTES} bytes`);
      const key = this.resolve(alias, 'ENCRYPT_DECRYPT');
      return this.seal(ctx, key, plaintext, context);
    });
  }

  async decrypt(ctx: RequestContext, ciphertext: Buffer, context: EncryptionContext) {
    let alias: string | undefined;
    return this.audited(ctx, 'decrypt', () => alias, async () => {
      const blob = decodeCiphertext(ciphertext);
      alias = blob.keyAlias;
      const key = this.resolve(blob.keyAlias, 'ENCRYPT_DECRYPT', blob.keyVersion);
      const aad = additionalData(blob.header, context);
      const { value, trace } = await this.onCluster(ctx, key, (crypto, deadline) => crypto.decrypt(key.label, { iv: blob.iv, ciphertext: blob.sealed }, aad, deadline));
      return { value: { plaintext: value, keyAlias: key.alias, keyVersion: key.version }, trace };
    });
  }

  /** A fresh AES-256 data key (from the HSM's generator), also encrypted under `alias`. */
  async generateDataKey(ctx: RequestContext, alias: string, context: EncryptionContext, withPlaintext: boolean) {
    return this.audited(ctx, withPlaintext ? 'generate-data-key' : 'generate-data-key-without-plaintext', alias, async () => {
      const key = this.resolve(alias, 'ENCRYPT_DECRYPT');
      const material = await this.onCluster(ctx, key, (crypto, deadline) => crypto.random(DATA_KEY_BYTES, deadline));
      const sealed = await this.seal(ctx, key, material.value, context);
      return {
        value: { plaintext: withPlaintext ? material.value : undefined, ciphertextBlob: sealed.value.ciphertext, keyAlias: key.alias, keyVersion: key.version },
        trace: { ...sealed.trace, attempts: sealed.trace.attempts + material.trace.attempts },
      };
    });
  }

  async sign(ctx: RequestContext, alias: string, message: Buffer, isDigest: boolean, algorithm: string) {
    return this.audited(ctx, 'sign', alias, async () => {
      const key = this.resolve(alias, 'SIGN_VERIFY');
      const { scheme, hash } = signingFor(key.spec, algorithm);
      const digest = digestOf(message, isDigest, hash);
      const { value, trace } = await this.onCluster(ctx, key, (crypto, deadline) => crypto.sign(key.label, scheme, hash, digest, deadline));
      return { value: { signature: value, keyAlias: key.alias, keyVersion: key.version, signingAlgorithm: algorithm }, trace };
    });
  }

  async verify(ctx: RequestContext, alias: string, message: Buffer, isDigest: boolean, signature: Buffer, algorithm: string, version?: number) {
    return this.audited(ctx, 'verify', alias, async () => {
      const key = this.resolve(alias, 'SIGN_VERIFY', version);
      const { scheme, hash } = signingFor(key.spec, algorithm);
      const digest = digestOf(message, isDigest, hash);
      const { value, trace } = await this.onCluster(ctx, key, (crypto, deadline) => crypto.verify(key.publicLabel, scheme, hash, digest, signature, deadline));
      return { value: { signatureValid: value, keyVersion: key.version }, trace };
    });
  }

  async generateMac(ctx: RequestContext, alias: string, message: Buffer, algorithm: string) {
    return this.audited(ctx, 'generate-mac', alias, async () => {
      const key = this.resolve(alias, 'GENERATE_VERIFY_MAC');
      const hash = macFor(key.spec, algorithm);
      const { value, trace } = await this.onCluster(ctx, key, (crypto, deadline) => crypto.mac(key.label, hash, message, deadline));
      return { value: { mac: value, keyVersion: key.version }, trace };
    });
  }

  async verifyMac(ctx: RequestContext, alias: string, message: Buffer, mac: Buffer, algorithm: string, version?: number) {
    return this.audited(ctx, 'verify-mac', alias, async () => {
      const key = this.resolve(alias, 'GENERATE_VERIFY_MAC', version);
      const hash = macFor(key.spec, algorithm);
      const { value, trace } = await this.onCluster(ctx, key, (crypto, deadline) => crypto.verifyMac(key.label, hash, message, mac, deadline));
      return { value: { macValid: value, keyVersion: key.version }, trace };
    });
  }

  async getPublicKey(ctx: RequestContext, alias: string, version?: number) {
    return this.audited(ctx, 'get-public-key', alias, async () => {
      const key = this.resolve(alias, 'SIGN_VERIFY', version);
      const { value, trace } = await this.onCluster(ctx, key, (crypto, deadline) => crypto.publicKey(key.publicLabel, deadline));
      const signingAlgorithms: SigningAlgorithmName[] = signingAlgorithmsFor(key.spec);
      return {
        value: {
          der: value.export({ format: 'der', type: 'spki' }),
          pem: value.export({ format: 'pem', type: 'spki' }).toString(),
          keySpec: key.spec,
          signingAlgorithms,
          keyVersion: key.version,
        },
        trace,
      };
    });
  }

  async generateRandom(ctx: RequestContext, length: number) {
    return this.audited(ctx, 'generate-random', undefined, async () => {
      if (!Number.isInteger(length) || length < 1 || length > MAX_RANDOM_BYTES) throw invalid(`number_of_bytes must be 1..${MAX_RANDOM_BYTES}`);
      const all = this.deps.clusters.all().map((c) => ({ id: c.id, weight: 1 }));
      return this.routed(ctx, all, (crypto, deadline) => crypto.random(length, deadline));
    });
  }

  /**
   * Encrypts many items (the batch RPC): what `encrypt` does per item, each with its own outcome
   * and audit record. Items that go to a cluster whose pool can run many in one session
   * (`ClusterCrypto.inOneSession`) share sessions, up to `MAX_ITEMS_PER_SESSION` each, and with
   * them one breaker call and bulkhead slot; an item whose shared attempt fails with a retryable
   * error is retried on its own (backoff and retry budget first, another cluster preferred).
   */
  encryptBatch(ctx: RequestContext, items: readonly { readonly alias: string; readonly plaintext: Buffer; readonly context: EncryptionContext }[]) {
    return this.batch(ctx, items, {
      operation: 'encrypt',
      aliasOf: (item) => item.alias,
      prepare: (item) => {
        if (item.plaintext.length > MAX_PLAINTEXT_BYTES) throw invalid(`plaintext is larger than ${MAX_PLAINTEXT_BYTES} bytes`);
        const key = this.resolve(item.alias, 'ENCRYPT_DECRYPT');
        return { key, op: { label: key.label, plaintext: item.plaintext, aad: additionalData(ciphertextHeader(key.alias, key.version), item.context) } };
      },
      inSession: (batch, ops: EncryptOp[], deadline) => batch.encrypt(ops, deadline),
      single: (crypto, op, deadline) => crypto.encrypt(op.label, op.plaintext, op.aad, deadline),
      finish: (key, sealed) => ({
        ciphertext: encodeCiphertext({ keyAlias: key.alias, keyVersion: key.version, iv: sealed.iv, sealed: sealed.ciphertext }),
        keyAlias: key.alias,
        keyVersion: key.version,
      }),
    });
  }

  /** Decrypts many items, as `encryptBatch` encrypts them. */
  decryptBatch(ctx: RequestContext, items: readonly { readonly ciphertext: Buffer; readonly context: EncryptionContext }[]) {
    return this.batch(ctx, items, {
      operation: 'decrypt',
      aliasOf: (item) => aliasOf(item.ciphertext),
      prepare: (item) => {
        const blob = decodeCiphertext(item.ciphertext);
        const key = this.resolve(blob.keyAlias, 'ENCRYPT_DECRYPT', blob.keyVersion);
        return { key, op: { label: key.label, sealed: { iv: blob.iv, ciphertext: blob.sealed }, aad: additionalData(blob.header, item.context) } };
      },
      inSession: (batch, ops: DecryptOp[], deadline) => batch.decrypt(ops, deadline),
      single: (crypto, op, deadline) => crypto.decrypt(op.label, op.sealed, op.aad, deadline),
      finish: (key, plaintext) => ({ plaintext, keyAlias: key.alias, keyVersion: key.version }),
    });
  }

  /** Signs many items, as `encryptBatch` encrypts them. */
  signBatch(ctx: RequestContext, items: readonly { readonly alias: string; readonly message: Buffer; readonly isDigest: boolean; readonly algorithm: string }[]) {
    return this.batch(ctx, items, {
      operation: 'sign',
      aliasOf: (item) => item.alias,
      prepare: (item) => {
        const key = this.resolve(item.alias, 'SIGN_VERIFY');
        const { scheme, hash } = signingFor(key.spec, item.algorithm);
        return { key, op: { label: key.label, scheme, hash, digest: digestOf(item.message, item.isDigest, hash) } };
      },
      inSession: (batch, ops: SignOp[], deadline) => batch.sign(ops, deadline),
      single: (crypto, op, deadline) => crypto.sign(op.label, op.scheme, op.hash, op.digest, deadline),
      finish: (key, signature, item) => ({ signature, keyAlias: key.alias, keyVersion: key.version, signingAlgorithm: item.algorithm }),
    });
  }

  private async batch<I, Op, R, V>(ctx: RequestContext, items: readonly I[], kind: BatchKind<I, Op, R, V>): Promise<BatchOutcome<V>[]> {
    const started = process.hrtime.bigint();
    const shares = new Map<ClusterHandle, ClusterShare<Op, R>>();
    // Each item runs synchronously up to its first await: by the end of this map every item that
    // can share a session is in its cluster's share.
    const outcomes = items.map((item) => {
      let alias = kind.aliasOf(item);
      const run = async (): Promise<Traced<V>> => {
        const { key, op } = kind.prepare(item);
        alias = key.alias;
        const work = (crypto: ClusterCrypto, deadline?: number) => kind.single(crypto, op, deadline);
        const cluster = this.pick(key.clusters, NONE_TRIED, key.alias);
        const batch = cluster.crypto.inOneSession;
        if (!batch) {
          const { value, trace } = await this.routed(ctx, key.clusters, work, key.version, key.alias);
          return { value: kind.finish(key, value, item), trace };
        }
        const result = await new Promise<R | Error>((answer) => {
          let share = shares.get(cluster);
          if (!share) shares.set(cluster, (share = { batch, ops: [], answers: [] }));
          share.ops.push(op);
          share.answers.push(answer);
        });
        if (!(result instanceof Error)) return { value: kind.finish(key, result, item), trace: { attempts: 1, clusterId: cluster.id, keyVersion: key.version } };
        const { value, trace } = await this.routed(ctx, key.clusters, work, key.version, key.alias, { clusterId: cluster.id, error: result });
        return { value: kind.finish(key, value, item), trace };
      };
      return this.audited(ctx, kind.operation, () => alias, run, started).then(
        (ok): BatchOutcome<V> => ({ ok }),
        (error: GatewayException): BatchOutcome<V> => ({ error }),
      );
    });
    for (const [cluster, share] of shares) {
      for (let from = 0; from < share.ops.length; from += MAX_ITEMS_PER_SESSION) {
        const ops = share.ops.slice(from, from + MAX_ITEMS_PER_SESSION);
        const answers = share.answers.slice(from, from + MAX_ITEMS_PER_SESSION);
        cluster.guard(() => kind.inSession(share.batch, ops, ctx.deadline), ctx.deadline).then(
          (results) => answers.forEach((answer, at) => answer(results[at] ?? new Error('the session batch answered fewer items than it was given'))),
          (err: unknown) => {
            const failure = err instanceof Error ? err : new Error(String(err));
            for (const answer of answers) answer(failure);
          },
        );
      }
    }
    return Promise.all(outcomes);
  }

  private async seal(ctx: RequestContext, key: ResolvedKey, plaintext: Buffer, context: EncryptionContext) {
    const header = ciphertextHeader(key.alias, key.version);
    const aad = additionalData(header, context);
    const { value, trace } = await this.onCluster(ctx, key, (crypto, deadline) => crypto.encrypt(key.label, plaintext, aad, deadline));
    const ciphertext = encodeCiphertext({ keyAlias: key.alias, keyVersion: key.version, iv: value.iv, sealed: value.ciphertext });
    return { value: { ciphertext, keyAlias: key.alias, keyVersion: key.version }, trace };
  }

  private resolve(alias: string, usage: KeyUsage, version?: number): ResolvedKey {
    if (!alias) throw invalid('key_alias is required');
    if (alias.length > MAX_ALIAS_LENGTH) throw invalid(`key_alias is at most ${MAX_ALIAS_LENGTH} characters`);
    const key = this.deps.directory.resolve(alias, version);
    if (key.usage !== usage) throw new GatewayException(GatewayExceptionCode.FailedPrecondition, `key ${alias} is a ${key.usage} key`);
    return key;
  }

  private onCluster<T>(ctx: RequestContext, key: ResolvedKey, work: (crypto: ClusterCrypto, deadline?: number) => Promise<T>): Promise<Traced<T>> {
    return this.routed(ctx, key.clusters, work, key.version, key.alias);
  }

  /**
   * Picks a cluster by weight among the healthy ones, runs `work` through its guard, and
   * retries retryable failures, preferring clusters not tried yet.
   */
  private async routed<T>(
    ctx: RequestContext,
    candidates: readonly { readonly id: string; readonly weight: number }[],
    work: (crypto: ClusterCrypto, deadline?: number) => Promise<T>,
    keyVersion?: number,
    alias?: string,
    firstAttempt?: { readonly clusterId: string; readonly error: unknown },
  ): Promise<Traced<T>> {
    const tried = new Set<string>(firstAttempt ? [firstAttempt.clusterId] : []);
    const trace: OperationTrace = { attempts: firstAttempt ? 1 : 0, ...(keyVersion ? { keyVersion } : {}), ...(firstAttempt ? { clusterId: firstAttempt.clusterId } : {}) };
    try {
      const value = await this.deps.retry.run(
        () => {
          const cluster = this.pick(candidates, tried, alias);
          tried.add(cluster.id);
          trace.clusterId = cluster.id;
          trace.attempts += 1;
          return cluster.guard(() => work(cluster.crypto, ctx.deadline), ctx.deadline);
        },
        (err) => !(err instanceof GatewayException) && this.deps.failures.classify(err).retryable,
        ctx.deadline,
        firstAttempt && { error: firstAttempt.error },
      );
      return { value, trace };
    } catch (err) {
      if (err instanceof GatewayException) throw new GatewayException(err.code, err.message, { cause: err.cause, trace });
      const { code, reason } = this.deps.failures.classify(err);
      throw new GatewayException(code, reason, { cause: err, trace });
    }
  }

  private pick(candidates: readonly { readonly id: string; readonly weight: number }[], tried: ReadonlySet<string>, alias?: string): ClusterHandle {
    const healthy = candidates.flatMap((c) => {
      const handle = this.deps.clusters.get(c.id);
      return handle && !handle.unavailable ? [{ handle, id: c.id, weight: c.weight }] : [];
    });
    const fresh = healthy.filter((c) => !tried.has(c.id));
    // First choice: weighted among untried clusters; then weighted among all healthy ones; and
    // when no cluster with weight is healthy, a zero-weight one that holds the key (weight 0
    // means "no traffic while others can take it", not "fail the request").
    const chosen = weightedChoice(fresh, this.deps.random) ?? weightedChoice(healthy, this.deps.random) ?? fresh[0] ?? healthy[0];
    if (!chosen) {
      const what = alias ? `key ${alias}` : 'this request';
      throw new GatewayException(GatewayExceptionCode.Unavailable, `no healthy cluster can serve ${what}`);
    }
    return chosen.handle;
  }

  /**
   * Runs one operation and writes its audit record, whatever the outcome. Fail closed: work is
   * refused while no record could be kept, and a result is answered only once its record was
   * taken (the trail may fail while the operation runs, or refuse the record itself).
   */
  private async audited<T>(
    ctx: RequestContext,
    operation: CryptoOperation,
    alias: string | undefined | (() => string | undefined),
    run: () => Promise<Traced<T>>,
    started = process.hrtime.bigint(),
  ): Promise<T> {
    const aliasNow = () => (typeof alias === 'function' ? alias() : alias);
    try {
      if (!this.deps.audit.accepting) throw auditUnavailable();
      const result = await run();
      if (!this.recorded(ctx, operation, aliasNow(), 'ok', result.trace, started)) throw auditUnavailable();
      return result.value;
    } catch (err) {
      const failure = err instanceof GatewayException ? err : new GatewayException(GatewayExceptionCode.Internal, 'internal error', { cause: err });
      // A refusal by the trail itself leaves no record: the trail is what cannot take one.
      this.recorded(ctx, operation, aliasNow(), failure.code, failure.trace, started);
      throw failure;
    }
  }

  /** Hands an operation's record to the trail; false when the trail does not take it (not accepting, or it refused the record). */
  private recorded(ctx: RequestContext, operation: CryptoOperation, alias: string | undefined, outcome: OperationOutcome, trace: OperationTrace, started: bigint): boolean {
    if (!this.deps.audit.accepting) return false;
    const keyAlias = auditableAlias(alias);
    return this.deps.audit.record({
      operation,
      caller: ctx.caller,
      ...(keyAlias ? { keyAlias } : {}),
      ...(trace.keyVersion ? { keyVersion: trace.keyVersion } : {}),
      ...(trace.clusterId ? { clusterId: trace.clusterId } : {}),
      outcome,
      latencyMicros: Number((process.hrtime.bigint() - started) / 1000n),
      attempts: trace.attempts,
      items: 1,
    });
  }
}

function auditUnavailable(): GatewayException {
  return new GatewayException(GatewayExceptionCode.Unavailable, 'the audit trail cannot be written; operations are refused until it can');
}

/**
 * The alias as an audit record may carry it: none for an alias longer than any key can have
 * (such a request is refused as INVALID_ARGUMENT, and its record must still be valid).
 */
export function auditableAlias(alias: string | undefined): string | undefined {
  return alias && alias.length <= MAX_ALIAS_LENGTH ? alias : undefined;
}

/** The alias a ciphertext names; undefined for garbage (which fails when the item is prepared). */
function aliasOf(ciphertext: Buffer): string | undefined {
  try {
    return decodeCiphertext(ciphertext).keyAlias;
  } catch {
    return undefined;
  }
}

function invalid(message: string): GatewayException {
  return new GatewayException(GatewayExceptionCode.InvalidArgument, message);
}

function digestOf(message: Buffer, isDigest: boolean, hash: keyof typeof DIGEST_LENGTH): Buffer {
  if (!isDigest) return createHash(hash).update(message).digest();
  if (message.length !== DIGEST_LENGTH[hash]) throw invalid(`a ${hash} digest is ${DIGEST_LENGTH[hash]} bytes`);
  return message;
}
