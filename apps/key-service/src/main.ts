import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadKeyServiceConfig } from './config/key-service.config';

void bootstrapService({
  service: 'key-service',
  loadConfig: loadKeyServiceConfig,
  module: (config) => AppModule.register(config),
});
