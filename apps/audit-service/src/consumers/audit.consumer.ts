import { Topics, type AnyMessage } from '@keyfleet/contracts';
import { AppendAuditRecordUseCase } from '@keyfleet/audit-log';
import type { HandlerContext } from '@keyfleet/messaging';
import { PostgresAuditLogRepository } from '../persistence/audit-log.repository';

/** Every command and event topic the audit log records (its own output topic excluded). */
export const AUDITED_TOPICS = [
  Topics.KeyCommands,
  Topics.KeyEvents,
  Topics.RotationCommands,
  Topics.RotationEvents,
  Topics.MigrationCommands,
  Topics.MigrationEvents,
  Topics.GatewayEvents,
] as const;

/** Appends each audited message to the hash chain and announces the record, in one transaction. */
export async function handleAuditedMessage(message: AnyMessage, ctx: HandlerContext): Promise<void> {
  const { events } = await new AppendAuditRecordUseCase(new PostgresAuditLogRepository(ctx.em)).execute(message);
  await ctx.outbox(events);
}
