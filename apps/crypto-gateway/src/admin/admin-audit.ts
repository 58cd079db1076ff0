import { MessageTypes, Topics, createMessage, encodeMessage, type GatewayAdminActionRecordedV1 } from '@keyfleet/contracts';
import type { SpooledPublisher } from '@keyfleet/messaging';

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

  record(data: GatewayAdminActionRecordedV1): void {
    const subject = data.keyAlias ?? data.clusterId ?? 'gateway';
    const message = createMessage({ type: MessageTypes.GatewayAdminActionRecordedV1, source: 'crypto-gateway', subject, actor: { kind: 'service', id: data.caller.slice(0, 128) }, data });
    this.spool.submit({ topic: `${this.topicPrefix}${Topics.GatewayEvents}`, key: subject, value: encodeMessage(message) });
  }
}
