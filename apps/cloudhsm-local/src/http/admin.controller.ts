import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { LocalAws } from '@keyfleet/local-aws';

/**
 * Test and demo controls that AWS does not have: move the clock, degrade an HSM, activate a
 * cluster (what `cloudhsm-cli cluster activate` does). Never part of the AWS surface.
 */
@Controller('admin')
export class AdminController {
  constructor(@Inject(LocalAws) private readonly localAws: LocalAws) {}

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
