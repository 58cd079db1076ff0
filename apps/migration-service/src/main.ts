import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadMigrationServiceConfig } from './config/migration-service.config';

void bootstrapService({
  service: 'migration-service',
  loadConfig: loadMigrationServiceConfig,
  http: (config) => config.http,
  logLevel: (config) => config.log.level,
  module: (config) => AppModule.register(config),
});
