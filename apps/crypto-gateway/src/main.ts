import { bootstrapService } from '@keyfleet/service-kit';
import { AppModule } from './app.module';
import { loadCryptoGatewayConfig } from './config/crypto-gateway.config';

void bootstrapService({
  service: 'crypto-gateway',
  loadConfig: loadCryptoGatewayConfig,
  module: (config) => AppModule.register(config),
});
