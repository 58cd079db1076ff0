import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { LocalAws, seedDemoEstate, type DemoEstate } from '@keyfleet/local-aws';
import { LOGGER } from '@keyfleet/observability';

export const DEMO_ESTATE_REGION = Symbol('cloudhsm-local.demo-estate-region');

/** Seeds the demo estate at start when configured (npm run up does), and remembers it for /admin/estate. */
@Injectable()
export class DemoEstateSeeder implements OnApplicationBootstrap {
  estate: DemoEstate | undefined;

  constructor(
    @Inject(LocalAws) private readonly localAws: LocalAws,
    @Inject(DEMO_ESTATE_REGION) private readonly region: string | undefined,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.region) return;
    this.estate = await seedDemoEstate(this.localAws, this.region);
    this.logger.info({ ...this.estate }, this.estate.created ? 'demo estate created' : 'demo estate present');
  }
}
