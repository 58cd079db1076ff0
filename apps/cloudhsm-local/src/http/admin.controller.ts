import { BadRequestException, Body, Controller, Delete, Get, HttpCode, Inject, NotFoundException, Param, Post } from '@nestjs/common';
import { z } from 'zod';
import { LocalAws, type DemoEstate, type FaultRule } from '@keyfleet/local-aws';
import { DemoEstateSeeder } from '../demo-estate.provider';

const faultRule = z.object({
  target: z.string().regex(/^(BaldrApiService|TrentService|secretsmanager)(\.[A-Za-z]+)?$/, 'expected BaldrApiService, TrentService or secretsmanager, optionally .Operation'),
  clusterId: z.string().regex(/^cluster-[2-7a-zA-Z]{11,16}$/).optional(),
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),
  errorRate: z.number().min(0).max(1).default(1),
  latencyMs: z.number().int().min(0).max(600_000).default(0),
  error: z.enum(['internal', 'throttling']).default('internal'),
});

/**
 * Test and demo controls that AWS does not have: move the clock, degrade an HSM, activate a
 * cluster (what `cloudhsm-cli cluster activate` does). Never part of the AWS surface.
 */
@Controller('admin')
export class AdminController {
  constructor(
    @Inject(LocalAws) private readonly localAws: LocalAws,
    @Inject(DemoEstateSeeder) private readonly demo: DemoEstateSeeder,
  ) {}

  /** The demo estate seeded at start (404 when CLOUDHSM_LOCAL_DEMO_ESTATE is off). */
  @Get('estate')
  estate(): DemoEstate {
    if (!this.demo.estate) throw new NotFoundException('no demo estate: start with CLOUDHSM_LOCAL_DEMO_ESTATE=<region>');
    return this.demo.estate;
  }

  @Get('clock')
  clock(): { now: string; offsetMs: number } {
    return { now: this.localAws.clock.now().toISOString(), offsetMs: this.localAws.clock.offset };
  }

  /** Moves emulated time forward: in-progress work, backup expiry and rollback windows follow. */
  @Post('clock/advance')
  @HttpCode(200)
  advance(@Body() body: { ms?: unknown }): { now: string; offsetMs: number } {
    const ms = body?.ms;
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0 || ms > 400 * 86_400_000) {
      throw new BadRequestException('ms: expected an integer number of milliseconds, 0 to 400 days');
    }
    this.localAws.clock.advance(ms);
    this.localAws.save();
    return this.clock();
  }

  /** Makes matching API calls fail (errorRate) and/or slow (latencyMs) until cleared. */
  @Post('faults')
  @HttpCode(200)
  setFault(@Body() body: unknown): { faults: readonly FaultRule[] } {
    const parsed = faultRule.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new BadRequestException(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    this.localAws.faults.set(parsed.data);
    return { faults: this.localAws.faults.list() };
  }

  @Get('faults')
  faults(): { faults: readonly FaultRule[] } {
    return { faults: this.localAws.faults.list() };
  }

  @Delete('faults')
  @HttpCode(200)
  clearFaults(): { faults: readonly FaultRule[] } {
    this.localAws.faults.clear();
    return { faults: [] };
  }

  /** Marks an UNINITIALIZED cluster INITIALIZED without the certificate ceremony (demos and tests). */
  @Post('regions/:region/clusters/:clusterId/initialize')
  @HttpCode(200)
  initialize(@Param('region') region: string, @Param('clusterId') clusterId: string): { clusterId: string; state: 'INITIALIZED' } {
    this.localAws.cloudHsm.markInitialized(region, clusterId);
    this.localAws.save();
    return { clusterId, state: 'INITIALIZED' };
  }

  @Post('regions/:region/clusters/:clusterId/activate')
  @HttpCode(200)
  activate(@Param('region') region: string, @Param('clusterId') clusterId: string): { clusterId: string; state: 'ACTIVE' } {
    this.localAws.cloudHsm.activate(region, clusterId);
    this.localAws.save();
    return { clusterId, state: 'ACTIVE' };
  }

  @Post('regions/:region/clusters/:clusterId/hsms/:hsmId/degrade')
  @HttpCode(200)
  degrade(@Param('region') region: string, @Param('clusterId') clusterId: string, @Param('hsmId') hsmId: string): { hsmId: string; state: 'DEGRADED' } {
    this.localAws.cloudHsm.degradeHsm(region, clusterId, hsmId);
    this.localAws.save();
    return { hsmId, state: 'DEGRADED' };
  }
}
