import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadRotationServiceConfig } from './config/rotation-service.config';

void bootstrapService({
  service: 'rotation-service',
  loadConfig: loadRotationServiceConfig,
  http: (config) => config.http,
  logLevel: (config) => config.log.level,
  module: (config) => AppModule.register(config),
});
