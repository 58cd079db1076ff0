import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@keyfleet/service-kit';
import type { RotationServiceConfig } from './config/rotation-service.config';

/**
 * rotation-service owns its schema, outbox and relay from the start; its commands and consumers
 * arrive with their issues.
 */
@Module({})
export class AppModule {
  static register(config: RotationServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceRuntimeModule.forRoot({ service: 'rotation-service', db: config.db, kafka: config.kafka, migrations: [], consumers: [] })],
    };
  }
}
