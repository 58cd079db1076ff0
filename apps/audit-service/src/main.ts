import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadAuditServiceConfig } from './config/audit-service.config';

void bootstrapService({
  service: 'audit-service',
  loadConfig: loadAuditServiceConfig,
  module: (config) => AppModule.register(config),
});
