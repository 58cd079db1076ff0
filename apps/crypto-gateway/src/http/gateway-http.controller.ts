import { Body, Controller, Get, HttpCode, Inject, NotFoundException, Param, Put, BadRequestException } from '@nestjs/common';
import { z } from 'zod';
import type { KeyDirectory } from '@keyfleet/gateway';
import type { ClusterFleet } from '../clusters/cluster-fleet';
import type { ProcessRuntime } from '../process-runtime';
import { CLUSTER_FLEET, FAULTS_ENABLED, KEY_DIRECTORY, PKCS11_WORKERS, PROCESS_RUNTIME, type Pkcs11WorkerStatus } from '../gateway.tokens';

const faultsSchema = z.object({ errorRate: z.number().min(0).max(1).optional(), latencyMs: z.number().int().min(0).max(60_000).optional(), hang: z.boolean().optional() }).strict();

/**
 * Read-only status for operators on the HTTP port (beside /health and /metrics), and the
 * data-path fault injection of test configuration (GATEWAY_FAULTS=on; 404 otherwise).
 */
@Controller('gateway')
export class GatewayHttpController {
  constructor(
    @Inject(CLUSTER_FLEET) private readonly fleet: ClusterFleet,
    @Inject(KEY_DIRECTORY) private readonly directory: KeyDirectory,
    @Inject(FAULTS_ENABLED) private readonly faultsEnabled: boolean,
    @Inject(PKCS11_WORKERS) private readonly workers: Pkcs11WorkerStatus,
    @Inject(PROCESS_RUNTIME) private readonly runtime: ProcessRuntime,
  ) {}

  @Get('status')
  status() {
    return {
      clusters: this.fleet.all().map((c) => ({
        clusterId: c.id,
        ...c.stats(),
        operations: c.operations,
        failures: c.failures,
        faults: c.faults.active,
        ...(c.startError ? { poolError: c.startError.message } : {}),
      })),
      rings: this.directory.rings(),
      pkcs11Workers: this.workers.read(),
      process: this.runtime,
    };
  }

  @Put('test/faults/:clusterId')
  @HttpCode(200)
  setFaults(@Param('clusterId') clusterId: string, @Body() body: unknown) {
    if (!this.faultsEnabled) throw new NotFoundException();
    const cluster = this.fleet.get(clusterId);
    if (!cluster) throw new NotFoundException(`no cluster ${clusterId}`);
    const parsed = faultsSchema.safeParse(body);
    if (!parsed.success) throw new BadRequestException(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    cluster.faults.set(parsed.data);
    return { clusterId, faults: cluster.faults.active };
  }
}
