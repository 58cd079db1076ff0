import { dataServiceConfig, loadConfig, type DataServiceConfig } from '@keyfleet/config';

/** key-service: HTTP 3101, schema `key_service`; see `dataServiceConfig` for the variables. */
export const keyServiceConfigSchema = dataServiceConfig({ defaultPort: 3101, schema: 'key_service' });
export type KeyServiceConfig = DataServiceConfig;

export const loadKeyServiceConfig = (env: NodeJS.ProcessEnv = process.env): KeyServiceConfig => loadConfig(keyServiceConfigSchema, env);
