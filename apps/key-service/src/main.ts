import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadKeyServiceConfig } from './config/key-service.config';

void bootstrapService({
  service: 'key-service',
  loadConfig: loadKeyServiceConfig,
  http: (config) => config.http,
  logLevel: (config) => config.log.level,
  module: (config) => AppModule.register(config),
});
