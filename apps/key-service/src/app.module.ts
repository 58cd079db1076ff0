import { Module, type DynamicModule } from '@nestjs/common';
import { Topics } from '@keyfleet/contracts';
import { ServiceRuntimeModule } from '@keyfleet/service-kit';
import type { KeyServiceConfig } from './config/key-service.config';
import { handleKeyCommand } from './consumers/key-commands.consumer';
import { KeyInventoryTables1763800001000 } from './persistence/key-inventory-tables.migration';

@Module({})
export class AppModule {
  static register(config: KeyServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceRuntimeModule.forRoot({
          service: 'key-service',
          db: config.db,
          kafka: config.kafka,
          migrations: [KeyInventoryTables1763800001000],
          consumers: [{ groupId: 'key-service', topics: [Topics.KeyCommands], handler: handleKeyCommand }],
        }),
      ],
    };
  }
}
