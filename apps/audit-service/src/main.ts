import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadAuditServiceConfig } from './config/audit-service.config';

void bootstrapService({
  service: 'audit-service',
  loadConfig: loadAuditServiceConfig,
  http: (config) => config.http,
  logLevel: (config) => config.log.level,
  module: (config) => AppModule.register(config),
});
