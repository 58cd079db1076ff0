import { Module, type DynamicModule } from '@nestjs/common';
import { ServiceRuntimeModule } from '@keyfleet/service-kit';
import type { AuditServiceConfig } from './config/audit-service.config';
import { AUDITED_TOPICS, handleAuditedMessage } from './consumers/audit.consumer';
import { AuditController } from './http/audit.controller';
import { AuditLogTables1763800002000 } from './persistence/audit-log-tables.migration';

@Module({})
export class AppModule {
  static register(config: AuditServiceConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ServiceRuntimeModule.forRoot({
          service: 'audit-service',
          db: config.db,
          kafka: config.kafka,
          migrations: [AuditLogTables1763800002000],
          // The chain is linear: one partition at a time keeps appends from queueing on the head lock.
          consumers: [{ groupId: 'audit-service', topics: AUDITED_TOPICS, handler: handleAuditedMessage, partitionsConsumedConcurrently: 1 }],
        }),
      ],
      controllers: [AuditController],
    };
  }
}
