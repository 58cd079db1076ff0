import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadRotationServiceConfig } from './config/rotation-service.config';

void bootstrapService({
  service: 'rotation-service',
  loadConfig: loadRotationServiceConfig,
  module: (config) => AppModule.register(config),
});
