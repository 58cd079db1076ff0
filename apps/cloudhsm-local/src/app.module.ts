import { join } from 'node:path';
import { Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { isLoggedInElsewhere } from '@keyfleet/hsm';
import { INSTANT_TIMINGS, LocalAws, REALISTIC_TIMINGS } from '@keyfleet/local-aws';
import type { Logger } from 'pino';
import type { CloudHsmLocalConfig } from './config/cloudhsm-local.config';
import { AdminController } from './http/admin.controller';
import { CloudHsmCliController } from './http/cloudhsm-cli.controller';
import { DEMO_ESTATE_REGION, DemoEstateSeeder } from './demo-estate.provider';
import { AwsEndpointMiddleware } from './http/aws-endpoint.middleware';
import { LocalAwsExceptionFilter } from './http/local-aws-exception.filter';
import { SoftHsmLifecycle } from './softhsm/softhsm.lifecycle';
import { SoftHsmTokenMaterializer } from './softhsm/softhsm-token.materializer';

/** The AWS JSON 1.1 endpoint (CloudHSMv2, Secrets Manager) and the admin controls, over one persisted state. */
@Module({})
export class AppModule implements NestModule {
  static register(config: CloudHsmLocalConfig, logger?: Logger): DynamicModule {
    return {
      module: AppModule,
      controllers: [AdminController, CloudHsmCliController],
      providers: [
        {
          provide: SoftHsmTokenMaterializer,
          useFactory: () => (config.softHsm ? new SoftHsmTokenMaterializer(config.softHsm.module, join(config.dataDir, 'softhsm'), config.softHsm.conf) : null),
        },
        {
          provide: LocalAws,
          inject: [SoftHsmTokenMaterializer],
          useFactory: (materializer: SoftHsmTokenMaterializer | null) =>
            new LocalAws({
              dataDir: config.dataDir,
              account: config.account,
              timings: config.timings === 'realistic' ? REALISTIC_TIMINGS : INSTANT_TIMINGS,
              hsmsPerRegion: config.hsmsPerRegion,
              // An AWS caller sees only "internal error"; the cause is logged here, once.
              onUnexpectedError: (err, target) => logger?.error({ err, target }, 'AWS API call failed unexpectedly'),
              ...(materializer ? { hsmListener: materializer } : {}),
              ...(config.loginDir
                ? { loginProbe: { isLoggedIn: (clusterId: string, username: string) => isLoggedInElsewhere(config.loginDir ?? '', SoftHsmTokenMaterializer.label(clusterId, username)) } }
                : {}),
            }),
        },
        SoftHsmLifecycle,
        AwsEndpointMiddleware,
        { provide: DEMO_ESTATE_REGION, useValue: config.demoEstateRegion },
        DemoEstateSeeder,
        { provide: APP_FILTER, useClass: LocalAwsExceptionFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AwsEndpointMiddleware).forRoutes({ path: '/', method: RequestMethod.POST });
  }
}
