import type { Logger } from 'pino';
import { MessageTypes, type AnyMessage, type GatewayAdminAction } from '@keyfleet/contracts';
import { GatewayException, GatewayExceptionCode, type KeyDirectory } from '@keyfleet/gateway';
import type { AdminAudit, AdminSubject } from '../admin/admin-audit';
import type { ClusterFleet } from '../clusters/cluster-fleet';

/** What became of one event: applied, or not for the gateway. */
export type ControlOutcome = 'applied' | 'ignored';

/**
 * Applies the events other services publish to steer the gateway: routing weights from
 * migration-service (canary steps, cut-over, rollback), crypto-user switches from
 * rotation-service, key state (current version, enabled) from key-service. Each applied
 * event is audited like the HsmAdmin request it stands for, with the publishing service as
 * the caller. A change the gateway cannot make (unknown ring, cluster or key) throws a
 * `GatewayException` for the consumer to dead-letter; other failures are worth a retry.
 */
export class ControlEventHandler {
  constructor(
    private readonly directory: KeyDirectory,
    private readonly fleet: ClusterFleet,
    private readonly audit: AdminAudit,
    private readonly logger: Logger,
  ) {}

  async apply(message: AnyMessage): Promise<ControlOutcome> {
    switch (message.type) {
      case MessageTypes.RoutingWeightsChangedV1: {
        const { ring, weights } = message.data;
        await this.audited(message, 'set-routing-weights', {}, () => this.directory.setWeights(ring, weights));
        this.logger.info({ ring, weights, source: message.source, eventId: message.id }, 'routing weights changed by event');
        return 'applied';
      }
      case MessageTypes.CryptoUserSwitchedV1: {
        const { clusterId, secretId, tokenLabel } = message.data;
        await this.audited(message, 'switch-crypto-user', { clusterId }, async () => {
          const cluster = this.fleet.get(clusterId);
          if (!cluster) throw new GatewayException(GatewayExceptionCode.NotFound, `no cluster ${clusterId}`);
          await cluster.reconnect({ secretId, ...(tokenLabel ? { tokenLabel } : {}) });
        });
        this.logger.info({ clusterId, secretId, source: message.source, eventId: message.id }, 'cluster switched to other credentials by event');
        return 'applied';
      }
      case MessageTypes.KeyStateChangedV1: {
        const { alias, currentVersion, enabled } = message.data;
        await this.audited(message, 'set-key-state', { keyAlias: alias, ...(currentVersion ? { keyVersion: currentVersion } : {}) }, () => {
          if (currentVersion !== undefined) this.directory.setCurrentVersion(alias, currentVersion);
          if (enabled !== undefined) this.directory.setEnabled(alias, enabled);
          // Whatever changed about the key, its handles are looked up afresh.
          for (const version of this.directory.key(alias)?.versions ?? []) {
            for (const clusterId of version.clusters) {
              this.fleet.get(clusterId)?.invalidateKey(version.label);
              if (version.publicLabel) this.fleet.get(clusterId)?.invalidateKey(version.publicLabel);
            }
          }
        });
        return 'applied';
      }
      case MessageTypes.KeyCreateRequestedV1:
      case MessageTypes.KeyRegisteredV1:
      case MessageTypes.KeyCommandRejectedV1:
      case MessageTypes.AuditRecordAppendedV1:
      case MessageTypes.CryptoOperationRecordedV1:
      case MessageTypes.GatewayBreakerStateChangedV1:
      case MessageTypes.GatewayAdminActionRecordedV1:
        return 'ignored';
    }
  }

  private audited(message: AnyMessage, action: GatewayAdminAction, subject: AdminSubject, run: () => void | Promise<void>): Promise<void> {
    // A failure that is not a refusal (the secret store away, a login failing) is the cluster being unavailable.
    return this.audit.track(action, () => `${message.actor.kind}:${message.actor.id}`.slice(0, 256), subject, run, { unexpected: 'UNAVAILABLE' });
  }
}
