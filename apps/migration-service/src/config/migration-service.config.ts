import { dataServiceConfig, loadConfig, type DataServiceConfig } from '@keyfleet/config';

/** migration-service: HTTP 3103, schema `migration_service`; see `dataServiceConfig` for the variables. */
export const migrationServiceConfigSchema = dataServiceConfig({ defaultPort: 3103, schema: 'migration_service' });
export type MigrationServiceConfig = DataServiceConfig;

export const loadMigrationServiceConfig = (env: NodeJS.ProcessEnv = process.env): MigrationServiceConfig => loadConfig(migrationServiceConfigSchema, env);
