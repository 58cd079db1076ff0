import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadMigrationServiceConfig } from './config/migration-service.config';

void bootstrapService({
  service: 'migration-service',
  loadConfig: loadMigrationServiceConfig,
  module: (config) => AppModule.register(config),
});
