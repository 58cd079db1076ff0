import { Controller, Inject } from '@nestjs/common';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { GatewayException, GatewayExceptionCode, type KeyDirectory } from '@keyfleet/gateway';
import { LOGGER } from '@keyfleet/observability';
import type { ClusterFleet } from '../clusters/cluster-fleet';
import { ADMIN_AUTHORIZER, CLUSTER_FLEET, KEY_DIRECTORY, type AdminAuthorizer } from '../gateway.tokens';
import { toGrpcError } from './grpc-status.mapper';

type Call = ServerUnaryCall<unknown, unknown>;

/**
 * `keyfleet.hsm.v1.HsmAdmin` (keyfleet services only): routing weights, switching a
 * cluster's crypto user, cluster status.
 */
@Controller()
export class HsmAdminController {
  constructor(
    @Inject(KEY_DIRECTORY) private readonly directory: KeyDirectory,
    @Inject(CLUSTER_FLEET) private readonly fleet: ClusterFleet,
    @Inject(ADMIN_AUTHORIZER) private readonly authorizer: AdminAuthorizer,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  @GrpcMethod('HsmAdmin', 'SetRoutingWeights')
  setRoutingWeights(req: { ring: string; weights: Record<string, number> }, _metadata: unknown, call: Call) {
    return this.admin(call, 'set routing weights', () => {
      this.directory.setWeights(req.ring, req.weights ?? {});
      this.logger.info({ ring: req.ring, weights: req.weights }, 'routing weights changed');
      return { weights: this.directory.rings()[req.ring]?.weights ?? {} };
    });
  }

  @GrpcMethod('HsmAdmin', 'SwitchCryptoUser')
  switchCryptoUser(req: { clusterId: string; secretId: string; tokenLabel: string }, _metadata: unknown, call: Call) {
    return this.admin(call, 'switch crypto user', async () => {
      const cluster = this.fleet.get(req.clusterId);
      if (!cluster) throw new GatewayException(GatewayExceptionCode.NotFound, `no cluster ${req.clusterId}`);
      if (!req.secretId) throw new GatewayException(GatewayExceptionCode.InvalidArgument, 'secret_id is required');
      await cluster.reconnect({ secretId: req.secretId, ...(req.tokenLabel ? { tokenLabel: req.tokenLabel } : {}) });
      this.logger.info({ clusterId: req.clusterId, secretId: req.secretId }, 'cluster switched to other credentials');
      return { status: this.status(req.clusterId) };
    });
  }

  @GrpcMethod('HsmAdmin', 'GetClusterStatus')
  getClusterStatus(_req: unknown, _metadata: unknown, call: Call) {
    return this.admin(call, 'cluster status', () => ({
      clusters: this.fleet.all().map((c) => this.status(c.id)),
      rings: Object.fromEntries(Object.entries(this.directory.rings()).map(([ring, r]) => [ring, { weights: r.weights }])),
    }));
  }

  private status(clusterId: string) {
    const cluster = this.fleet.get(clusterId);
    if (!cluster) throw new GatewayException(GatewayExceptionCode.NotFound, `no cluster ${clusterId}`);
    const s = cluster.stats();
    return {
      clusterId,
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
    };
  }

  private async admin<T>(call: Call, what: string, run: () => T | Promise<T>): Promise<T> {
    try {
      const caller = this.authorizer.identify(call.getAuthContext().sslPeerCertificate);
      const denial = this.authorizer.authorizeAdmin(caller);
      if (denial !== undefined) throw new GatewayException(GatewayExceptionCode.PermissionDenied, denial);
      this.logger.info({ caller, action: what }, 'admin request');
      return await run();
    } catch (err) {
      throw new RpcException(toGrpcError(err, this.logger));
    }
  }
}
