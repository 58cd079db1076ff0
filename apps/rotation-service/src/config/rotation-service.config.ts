import { dataServiceConfig, loadConfig, type DataServiceConfig } from '@keyfleet/config';

/** rotation-service: HTTP 3102, schema `rotation_service`; see `dataServiceConfig` for the variables. */
export const rotationServiceConfigSchema = dataServiceConfig({ defaultPort: 3102, schema: 'rotation_service' });
export type RotationServiceConfig = DataServiceConfig;

export const loadRotationServiceConfig = (env: NodeJS.ProcessEnv = process.env): RotationServiceConfig => loadConfig(rotationServiceConfigSchema, env);
