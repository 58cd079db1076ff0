import { dataServiceConfig, loadConfig, type DataServiceConfig } from '@keyfleet/config';

/** audit-service: HTTP 3104, schema `audit_service`; see `dataServiceConfig` for the variables. */
export const auditServiceConfigSchema = dataServiceConfig({ defaultPort: 3104, schema: 'audit_service' });
export type AuditServiceConfig = DataServiceConfig;

export const loadAuditServiceConfig = (env: NodeJS.ProcessEnv = process.env): AuditServiceConfig =>
  loadConfig(auditServiceConfigSchema, env);
