import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadCloudHsmLocalConfig } from './config/cloudhsm-local.config';

void bootstrapService({
  service: 'cloudhsm-local',
  loadConfig: loadCloudHsmLocalConfig,
  module: (config, context) => AppModule.register(config, context.logger),
});
