import type { z } from 'zod';
import { dataServiceConfig, loadConfig } from '@keyfleet/config';

/** rotation-service: HTTP 3102, Postgres schema `rotation_service`. Variables: see `dataServiceConfig`. */
export const rotationServiceConfigSchema = dataServiceConfig({ service: 'rotation-service', defaultPort: 3102, schema: 'rotation_service' });
export type RotationServiceConfig = z.output<typeof rotationServiceConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad or missing variable. */
export const loadRotationServiceConfig = (env: NodeJS.ProcessEnv = process.env): RotationServiceConfig =>
  loadConfig(rotationServiceConfigSchema, env);
