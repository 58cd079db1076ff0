import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { Logger } from 'pino';
import { GatewayException, GatewayExceptionCode, type KeyDirectory } from '@keyfleet/gateway';
import { LOGGER } from '@keyfleet/observability';
import type { AdminAudit } from '../admin/admin-audit';
import type { ClusterFleet } from '../clusters/cluster-fleet';
import type { ClusterRuntime } from '../clusters/cluster-runtime';
import { ADMIN_AUDIT, ADMIN_AUTHORIZER, CLUSTER_FLEET, KEY_DIRECTORY, type AdminAuthorizer } from '../gateway.tokens';
import { runAdminCall, type AdminCall, type AdminSubject } from './admin-call';

/** How long DrainCluster waits for work in flight when the call has no deadline. */
const DEFAULT_DRAIN_MS = 30_000;

/**
 * `keyfleet.hsm.v1.HsmAdmin` (keyfleet services only), routing and pools: weights, switching
 * a cluster's crypto user, draining and resuming a cluster, cluster status.
 */
@Controller()
export class HsmAdminController {
  constructor(
    @Inject(KEY_DIRECTORY) private readonly directory: KeyDirectory,
    @Inject(CLUSTER_FLEET) private readonly fleet: ClusterFleet,
    @Inject(ADMIN_AUTHORIZER) private readonly authorizer: AdminAuthorizer,
    @Inject(ADMIN_AUDIT) private readonly audit: AdminAudit,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @GrpcMethod('HsmAdmin', 'SetRoutingWeights')
  setRoutingWeights(req: { ring: string; weights: Record<string, number> }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'set-routing-weights', {}, () => {
      this.directory.setWeights(req.ring, req.weights ?? {});
      this.logger.info({ ring: req.ring, weights: req.weights }, 'routing weights changed');
      return { weights: this.directory.rings()[req.ring]?.weights ?? {} };
    });
  }

  @GrpcMethod('HsmAdmin', 'SwitchCryptoUser')
  switchCryptoUser(req: { clusterId: string; secretId: string; tokenLabel: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'switch-crypto-user', { clusterId: req.clusterId }, async () => {
      const cluster = this.cluster(req.clusterId);
      if (!req.secretId) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'secret_id is required');
      await cluster.reconnect({ secretId: req.secretId, ...(req.tokenLabel ? { tokenLabel: req.tokenLabel } : {}) });
      this.logger.info({ clusterId: req.clusterId, secretId: req.secretId }, 'cluster switched to other credentials');
      return { status: status(cluster) };
    });
  }

  @GrpcMethod('HsmAdmin', 'DrainCluster')
  drainCluster(req: { clusterId: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'drain-cluster', { clusterId: req.clusterId }, async () => {
      const cluster = this.cluster(req.clusterId);
      const deadline = call.getDeadline();
      const until = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? Number(deadline) : Date.now() + DEFAULT_DRAIN_MS;
      // Leave the reply some time to travel before the caller's deadline.
      const left = await cluster.drain(until - 100);
      this.logger.warn({ clusterId: req.clusterId, ...left }, 'cluster drained: no traffic is routed to it until ResumeCluster');
      return { status: status(cluster), inFlightLeft: left.inFlight, queuedLeft: left.queued };
    });
  }

  @GrpcMethod('HsmAdmin', 'ResumeCluster')
  resumeCluster(req: { clusterId: string }, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'resume-cluster', { clusterId: req.clusterId }, () => {
      const cluster = this.cluster(req.clusterId);
      cluster.resume();
      this.logger.info({ clusterId: req.clusterId }, 'cluster resumed: routed by its weights again');
      return { status: status(cluster) };
    });
  }

  @GrpcMethod('HsmAdmin', 'GetClusterStatus')
  getClusterStatus(_req: unknown, _metadata: unknown, call: AdminCall) {
    return this.run(call, 'cluster-status', {}, () => ({
      clusters: this.fleet.all().map(status),
      rings: Object.fromEntries(Object.entries(this.directory.rings()).map(([ring, r]) => [ring, { weights: r.weights }])),
    }));
  }

  private cluster(clusterId: string): ClusterRuntime {
    const cluster = this.fleet.get(clusterId);
    if (!cluster) throw new GatewayException(GatewayExceptionCode.NotFound, `no cluster ${clusterId}`);
    return cluster;
  }

  private run<T>(call: AdminCall, action: Parameters<typeof runAdminCall>[2], subject: AdminSubject, work: () => T | Promise<T>): Promise<T> {
    return runAdminCall({ authorizer: this.authorizer, audit: this.audit, logger: this.logger }, call, action, subject, work);
  }
}

function status(cluster: ClusterRuntime) {
  const s = cluster.stats();
  return {
    clusterId: cluster.id,
    breaker: s.breaker,
    poolSize: s.pool.size,
    sessionsOpen: s.pool.open,
    sessionsBusy: s.pool.busy,
    waiting: s.pool.waiting,
    loggedIn: s.pool.loggedIn,
    inFlight: s.inFlight,
    queued: s.queued,
    logins: s.crypto.logins,
    objectSearches: s.crypto.objectSearches,
    operations: cluster.operations,
    failures: cluster.failures,
    drained: s.drained,
    errorPercentage: s.errorPercentage,
    poolError: cluster.startError?.message ?? '',
  };
}
