import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CryptoOperation } from '@keyfleet/contracts';
import { GatewayCrypto, GatewayException, GatewayExceptionCode, auditableAlias, decodeCiphertext, type BatchOutcome, type OperationAudit, type RequestContext } from '@keyfleet/gateway';
import { LOGGER } from '@keyfleet/observability';
import { CALLER_AUTHORIZER, OPERATION_AUDIT, OPERATION_TIMEOUT_MS, type CallerAuthorizer } from '../gateway.tokens';
import { ConnectionIdentities } from '../security/connection-identity';
import { toGrpcError } from './grpc-status.mapper';
import { operationDeadline } from './operation-deadline';

type Context = Readonly<Record<string, string>>;
type Call = ServerUnaryCall<unknown, unknown>;

/** Most items in one batch request. */
export const MAX_BATCH_ITEMS = 256;

interface EncryptRequest { keyAlias: string; plaintext: Buffer; encryptionContext: Context }
interface DecryptRequest { ciphertext: Buffer; encryptionContext: Context }
interface SignRequest { keyAlias: string; message: Buffer; messageType: string; signingAlgorithm: string }

/**
 * `keyfleet.crypto.v1.Crypto`: each handler identifies the caller from its client
 * certificate, checks the policy, builds one call of `GatewayCrypto` and maps its failure to
 * a gRPC status. No data reaches a log line.
 */
@Controller()
export class CryptoController {
  /** Callers by connection: the client certificate is read once per connection, not per call. */
  private readonly identities: ConnectionIdentities;

  constructor(
    private readonly crypto: GatewayCrypto,
    @Inject(CALLER_AUTHORIZER) private readonly authorizer: CallerAuthorizer,
    @Inject(OPERATION_AUDIT) private readonly audit: OperationAudit,
    @Inject(LOGGER) private readonly logger: Logger,
    @Inject(OPERATION_TIMEOUT_MS) private readonly operationTimeoutMs: number,
  ) {
    this.identities = new ConnectionIdentities((peer) => this.authorizer.identify(peer));
  }

  @GrpcMethod('Crypto', 'Encrypt')
  encrypt(req: EncryptRequest, _metadata: unknown, call: Call) {
    return this.handle(call, 'encrypt', req.keyAlias, (ctx) => this.crypto.encrypt(ctx, req.keyAlias, req.plaintext, req.encryptionContext ?? {}));
  }

  @GrpcMethod('Crypto', 'Decrypt')
  decrypt(req: DecryptRequest, _metadata: unknown, call: Call) {
    return this.handle(call, 'decrypt', aliasIn(req.ciphertext), (ctx) => this.crypto.decrypt(ctx, req.ciphertext, req.encryptionContext ?? {}));
  }

  @GrpcMethod('Crypto', 'GenerateDataKey')
  generateDataKey(req: { keyAlias: string; encryptionContext: Context }, _metadata: unknown, call: Call) {
    return this.handle(call, 'generate-data-key', req.keyAlias, (ctx) => this.crypto.generateDataKey(ctx, req.keyAlias, req.encryptionContext ?? {}, true));
  }

  @GrpcMethod('Crypto', 'GenerateDataKeyWithoutPlaintext')
  generateDataKeyWithoutPlaintext(req: { keyAlias: string; encryptionContext: Context }, _metadata: unknown, call: Call) {
    return this.handle(call, 'generate-data-key-without-plaintext', req.keyAlias, (ctx) =>
      this.crypto.generateDataKey(ctx, req.keyAlias, req.encryptionContext ?? {}, false),
    );
  }

  @GrpcMethod('Crypto', 'Sign')
  sign(req: SignRequest, _metadata: unknown, call: Call) {
    return this.handle(call, 'sign', req.keyAlias, (ctx) => this.crypto.sign(ctx, req.keyAlias, req.message, req.messageType === 'DIGEST', req.signingAlgorithm));
  }

  @GrpcMethod('Crypto', 'Verify')
  verify(req: SignRequest & { signature: Buffer; keyVersion: number }, _metadata: unknown, call: Call) {
    return this.handle(call, 'verify', req.keyAlias, (ctx) =>
      this.crypto.verify(ctx, req.keyAlias, req.message, req.messageType === 'DIGEST', req.signature, req.signingAlgorithm, req.keyVersion),
    );
  }

  @GrpcMethod('Crypto', 'GenerateMac')
  generateMac(req: { keyAlias: string; message: Buffer; macAlgorithm: string }, _metadata: unknown, call: Call) {
    return this.handle(call, 'generate-mac', req.keyAlias, (ctx) => this.crypto.generateMac(ctx, req.keyAlias, req.message, req.macAlgorithm));
  }

  @GrpcMethod('Crypto', 'VerifyMac')
  verifyMac(req: { keyAlias: string; message: Buffer; mac: Buffer; macAlgorithm: string; keyVersion: number }, _metadata: unknown, call: Call) {
    return this.handle(call, 'verify-mac', req.keyAlias, (ctx) => this.crypto.verifyMac(ctx, req.keyAlias, req.message, req.mac, req.macAlgorithm, req.keyVersion));
  }

  @GrpcMethod('Crypto', 'GetPublicKey')
  async getPublicKey(req: { keyAlias: string; keyVersion: number }, _metadata: unknown, call: Call) {
    const key = await this.handle(call, 'get-public-key', req.keyAlias, (ctx) => this.crypto.getPublicKey(ctx, req.keyAlias, req.keyVersion));
    return { publicKeyDer: key.der, publicKeyPem: key.pem, keySpec: key.keySpec, signingAlgorithms: key.signingAlgorithms, keyVersion: key.keyVersion };
  }

  @GrpcMethod('Crypto', 'GenerateRandom')
  async generateRandom(req: { numberOfBytes: number }, _metadata: unknown, call: Call) {
    return { random: await this.handle(call, 'generate-random', undefined, (ctx) => this.crypto.generateRandom(ctx, req.numberOfBytes)) };
  }

  @GrpcMethod('Crypto', 'EncryptBatch')
  encryptBatch(req: { items: EncryptRequest[] }, _metadata: unknown, call: Call) {
    return this.batch(call, 'encrypt', req.items, (item) => item.keyAlias, (ctx, items) =>
      this.crypto.encryptBatch(ctx, items.map((item) => ({ alias: item.keyAlias, plaintext: item.plaintext, context: item.encryptionContext ?? {} }))),
    );
  }

  @GrpcMethod('Crypto', 'DecryptBatch')
  decryptBatch(req: { items: DecryptRequest[] }, _metadata: unknown, call: Call) {
    return this.batch(call, 'decrypt', req.items, (item) => aliasIn(item.ciphertext), (ctx, items) =>
      this.crypto.decryptBatch(ctx, items.map((item) => ({ ciphertext: item.ciphertext ?? Buffer.alloc(0), context: item.encryptionContext ?? {} }))),
    );
  }

  @GrpcMethod('Crypto', 'SignBatch')
  signBatch(req: { items: SignRequest[] }, _metadata: unknown, call: Call) {
    return this.batch(call, 'sign', req.items, (item) => item.keyAlias, (ctx, items) =>
      this.crypto.signBatch(ctx, items.map((item) => ({ alias: item.keyAlias, message: item.message, isDigest: item.messageType === 'DIGEST', algorithm: item.signingAlgorithm }))),
    );
  }

  private async handle<T>(call: Call, operation: CryptoOperation, alias: string | undefined, run: (ctx: RequestContext) => Promise<T>): Promise<T> {
    try {
      const ctx = this.context(call);
      return await this.guarded(ctx, operation, alias, () => run(ctx));
    } catch (err) {
      throw new RpcException(toGrpcError(err, this.logger));
    }
  }

  /** Checks the caller's policy for one operation; a denial is audited like any other outcome. */
  private guarded<T>(ctx: RequestContext, operation: CryptoOperation, alias: string | undefined, run: () => Promise<T>): Promise<T> {
    const denial = this.authorizer.authorize(ctx.caller, operation, alias);
    return denial === undefined ? run() : Promise.reject(this.denied(ctx, operation, alias, denial));
  }

  /** The audit record of a denied operation, and its error. */
  private denied(ctx: RequestContext, operation: CryptoOperation, alias: string | undefined, denial: string): GatewayException {
    if (this.audit.accepting) {
      const keyAlias = auditableAlias(alias);
      this.audit.record({ operation, caller: ctx.caller, ...(keyAlias ? { keyAlias } : {}), outcome: 'PERMISSION_DENIED', latencyMicros: 0, attempts: 0, items: 1 });
    }
    return new GatewayException(GatewayExceptionCode.PermissionDenied, denial);
  }

  /**
   * A batch RPC: the policy is checked per item (a denied item fails alone, audited), the
   * allowed items go to `GatewayCrypto` together, and each item answers its own outcome.
   */
  private async batch<I, T>(
    call: Call,
    operation: CryptoOperation,
    items: I[] | undefined,
    aliasOf: (item: I) => string | undefined,
    run: (ctx: RequestContext, allowed: I[]) => Promise<BatchOutcome<T>[]>,
  ) {
    let ctx: RequestContext;
    try {
      ctx = this.context(call);
      if (!items || items.length === 0 || items.length > MAX_BATCH_ITEMS) throw new GatewayException(GatewayExceptionCode.InvalidArgument, `a batch has 1..${MAX_BATCH_ITEMS} items`);
    } catch (err) {
      throw new RpcException(toGrpcError(err, this.logger));
    }
    const results = new Array<{ ok: T } | { error: ReturnType<typeof toGrpcError> }>(items.length);
    const allowed: I[] = [];
    const places: number[] = [];
    items.forEach((item, at) => {
      const alias = aliasOf(item);
      const denial = this.authorizer.authorize(ctx.caller, operation, alias);
      if (denial === undefined) {
        allowed.push(item);
        places.push(at);
      } else {
        results[at] = { error: toGrpcError(this.denied(ctx, operation, alias, denial), this.logger) };
      }
    });
    const outcomes = allowed.length > 0 ? await run(ctx, allowed) : [];
    outcomes.forEach((outcome, n) => {
      results[places[n] as number] = outcome.ok !== undefined ? { ok: outcome.ok } : { error: toGrpcError(outcome.error, this.logger) };
    });
    return { results };
  }

  private context(call: Call): RequestContext {
    const caller = this.identities.identify(call);
    return { caller, deadline: operationDeadline(call.getDeadline(), Date.now(), this.operationTimeoutMs) };
  }
}

/** The alias a ciphertext names, for the policy check (undefined for garbage, which fails authentication anyway). */
function aliasIn(ciphertext: Buffer | undefined): string | undefined {
  try {
    return decodeCiphertext(ciphertext ?? Buffer.alloc(0)).keyAlias;
  } catch {
    return undefined;
  }
}
