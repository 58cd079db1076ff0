import { MessageTypes, Topics, createMessage, encodeMessage, type GatewayAdminAction, type GatewayAdminActionRecordedV1, type OperationOutcome } from '@keyfleet/contracts';
import { GatewayException } from '@keyfleet/gateway';
import type { SpooledPublisher } from '@keyfleet/messaging';

/** What an admin action acted on, for its record (names only, never secrets or material). */
export interface AdminSubject {
  readonly clusterId?: string;
  readonly keyAlias?: string;
  readonly keyVersion?: number;
  readonly username?: string;
}

/**
 * One `keyfleet.gateway.admin-action-recorded.v1` per HsmAdmin request on
 * `keyfleet.gateway.events.v1`, through the same spool as the operation records (so none is
 * lost while Kafka is away). Admin requests are refused while the spool cannot be written.
 */
export class AdminAudit {
  constructor(
    private readonly spool: SpooledPublisher,
    private readonly topicPrefix: string,
  ) {}

  get accepting(): boolean {
    return this.spool.accepting;
  }

  /**
   * Runs one admin action (an HsmAdmin request or a control event) and records it, whatever
   * the outcome: the caller as `caller()` knows it when the action ends, the subject given plus
   * what `learn` reads from the result (the user a secret named, the version made), the outcome
   * (`ok`, the failure's code, or `unexpected` for an error that is not a gateway error), the
   * latency. Nothing is recorded while the spool refuses records.
   */
  async track<T>(
    action: GatewayAdminAction,
    caller: () => string,
    subject: AdminSubject,
    run: () => T | Promise<T>,
    options: { readonly learn?: (result: T) => AdminSubject; readonly unexpected?: OperationOutcome } = {},
  ): Promise<T> {
    const started = process.hrtime.bigint();
    let outcome: OperationOutcome = 'ok';
    let learned: AdminSubject = {};
    try {
      const result = await run();
      learned = options.learn?.(result) ?? {};
      return result;
    } catch (err) {
      outcome = err instanceof GatewayException ? err.code : (options.unexpected ?? 'INTERNAL');
      throw err;
    } finally {
      if (this.accepting) {
        this.record({ action, caller: caller(), ...definedOnly(learned), ...definedOnly(subject), outcome, latencyMicros: Number((process.hrtime.bigint() - started) / 1000n) });
      }
    }
  }

  record(data: GatewayAdminActionRecordedV1): void {
    const subject = data.keyAlias ?? data.clusterId ?? 'gateway';
    const message = createMessage({ type: MessageTypes.GatewayAdminActionRecordedV1, source: 'crypto-gateway', subject, actor: { kind: 'service', id: data.caller.slice(0, 128) }, data });
    this.spool.submit({ topic: `${this.topicPrefix}${Topics.GatewayEvents}`, key: subject, value: encodeMessage(message) });
  }
}

function definedOnly(subject: AdminSubject): AdminSubject {
  return Object.fromEntries(Object.entries(subject).filter(([, v]) => v !== undefined && v !== '' && v !== 0));
}
