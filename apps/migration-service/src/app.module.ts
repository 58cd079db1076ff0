import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@keyfleet/service-kit';
import type { MigrationServiceConfig } from './config/migration-service.config';

/**
 * migration-service owns its schema, outbox and relay from the start; its commands and consumers
 * arrive with their issues.
 */
@Module({})
export class AppModule {
  static register(config: MigrationServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ServiceRuntimeModule.forRoot({ service: 'migration-service', db: config.db, kafka: config.kafka, migrations: [], consumers: [] })],
    };
  }
}
