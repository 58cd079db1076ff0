import type { z } from 'zod';
import { dataServiceConfig, loadConfig } from '@keyfleet/config';

/** audit-service: HTTP 3104, Postgres schema `audit_service`. Variables: see `dataServiceConfig`. */
export const auditServiceConfigSchema = dataServiceConfig({ service: 'audit-service', defaultPort: 3104, schema: 'audit_service' });
export type AuditServiceConfig = z.output<typeof auditServiceConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad or missing variable. */
export const loadAuditServiceConfig = (env: NodeJS.ProcessEnv = process.env): AuditServiceConfig =>
  loadConfig(auditServiceConfigSchema, env);
