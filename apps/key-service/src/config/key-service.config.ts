import type { z } from 'zod';
import { dataServiceConfig, loadConfig } from '@keyfleet/config';

/** key-service: HTTP 3101, Postgres schema `key_service`. Variables: see `dataServiceConfig`. */
export const keyServiceConfigSchema = dataServiceConfig({ service: 'key-service', defaultPort: 3101, schema: 'key_service' });
export type KeyServiceConfig = z.output<typeof keyServiceConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad or missing variable. */
export const loadKeyServiceConfig = (env: NodeJS.ProcessEnv = process.env): KeyServiceConfig =>
  loadConfig(keyServiceConfigSchema, env);
