import { Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { GatewayCrypto } from '@keyfleet/gateway';
import type { ObservabilityContext } from '@keyfleet/observability';
import type { CryptoGatewayConfig } from './config/crypto-gateway.config';
import { ADMIN_AUDIT, ADMIN_AUTHORIZER, CALLER_AUTHORIZER, CLUSTER_FLEET, FAULTS_ENABLED, PKCS11_WORKERS, PROCESS_RUNTIME, KEY_ADMIN, KEY_DIRECTORY, OPERATION_AUDIT, OPERATION_TIMEOUT_MS, USER_ADMIN } from './gateway.tokens';
import { GatewayRuntime } from './gateway.runtime';
import { CryptoController } from './grpc/crypto.controller';
import { HsmAdminKeysController } from './grpc/hsm-admin-keys.controller';
import { HsmAdminUsersController } from './grpc/hsm-admin-users.controller';
import { HsmAdminController } from './grpc/hsm-admin.controller';
import { GatewayHttpController } from './http/gateway-http.controller';

/** Closes the gateway runtime (pools drain and log out, audit spool flushes) when the app stops. */
class RuntimeCloser implements OnApplicationShutdown {
  constructor(@Inject(GatewayRuntime) private readonly runtime: GatewayRuntime) {}

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.close();
  }
}

/** The crypto gateway: gRPC Crypto and HsmAdmin (connected in main.ts), HTTP status, the runtime behind them. */
@Module({})
export class AppModule {
  static register(config: CryptoGatewayConfig, context: ObservabilityContext): DynamicModule {
    return {
      module: AppModule,
      controllers: [CryptoController, HsmAdminController, HsmAdminKeysController, HsmAdminUsersController, GatewayHttpController],
      providers: [
        { provide: FAULTS_ENABLED, useValue: config.faults },
        { provide: OPERATION_TIMEOUT_MS, useValue: config.operationTimeoutMs },
        { provide: GatewayRuntime, useFactory: () => GatewayRuntime.start(config, context.logger, context.metrics) },
        { provide: GatewayCrypto, useFactory: (rt: GatewayRuntime) => rt.crypto, inject: [GatewayRuntime] },
        { provide: KEY_DIRECTORY, useFactory: (rt: GatewayRuntime) => rt.directory, inject: [GatewayRuntime] },
        { provide: CLUSTER_FLEET, useFactory: (rt: GatewayRuntime) => rt.fleet, inject: [GatewayRuntime] },
        { provide: PKCS11_WORKERS, useFactory: (rt: GatewayRuntime) => rt.pkcs11Workers, inject: [GatewayRuntime] },
        { provide: PROCESS_RUNTIME, useFactory: (rt: GatewayRuntime) => rt.host, inject: [GatewayRuntime] },
        { provide: CALLER_AUTHORIZER, useFactory: (rt: GatewayRuntime) => rt.authorizer, inject: [GatewayRuntime] },
        { provide: ADMIN_AUTHORIZER, useFactory: (rt: GatewayRuntime) => rt.authorizer, inject: [GatewayRuntime] },
        { provide: OPERATION_AUDIT, useFactory: (rt: GatewayRuntime) => rt.audit, inject: [GatewayRuntime] },
        { provide: KEY_ADMIN, useFactory: (rt: GatewayRuntime) => rt.keyAdmin, inject: [GatewayRuntime] },
        { provide: USER_ADMIN, useFactory: (rt: GatewayRuntime) => rt.userAdmin, inject: [GatewayRuntime] },
        { provide: ADMIN_AUDIT, useFactory: (rt: GatewayRuntime) => rt.adminAudit, inject: [GatewayRuntime] },
        RuntimeCloser,
      ],
    };
  }
}
