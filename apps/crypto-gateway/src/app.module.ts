import { Module, type DynamicModule } from '@nestjs/common';
import type { CryptoGatewayConfig } from './config/crypto-gateway.config';

/** The gateway's gRPC services, HSM session pools and routing arrive with the crypto-gateway issue. */
@Module({})
export class AppModule {
  static register(_config: CryptoGatewayConfig): DynamicModule {
    return { module: AppModule };
  }
}
