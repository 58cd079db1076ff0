import type { z } from 'zod';
import { dataServiceConfig, loadConfig } from '@keyfleet/config';

/** migration-service: HTTP 3103, Postgres schema `migration_service`. Variables: see `dataServiceConfig`. */
export const migrationServiceConfigSchema = dataServiceConfig({ service: 'migration-service', defaultPort: 3103, schema: 'migration_service' });
export type MigrationServiceConfig = z.output<typeof migrationServiceConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad or missing variable. */
export const loadMigrationServiceConfig = (env: NodeJS.ProcessEnv = process.env): MigrationServiceConfig =>
  loadConfig(migrationServiceConfigSchema, env);
