import { z } from 'zod';
import { httpAndLogFields, loadConfig } from '@keyfleet/config';

/**
 * cloudhsm-local: the AWS stand-in (CloudHSMv2, KMS, Secrets Manager protocols) on
 * 127.0.0.1:4510 by default. Variables: HTTP_HOST, HTTP_PORT, LOG_LEVEL. It takes no
 * Kafka or database settings: AWS does not talk to keyfleet's bus, so neither does its stand-in.
 */
export const cloudHsmLocalConfigSchema = z
  .object(httpAndLogFields(4510))
  .transform((env) => ({ http: { host: env.HTTP_HOST, port: env.HTTP_PORT }, log: { level: env.LOG_LEVEL } }));
export type CloudHsmLocalConfig = z.output<typeof cloudHsmLocalConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad variable. */
export const loadCloudHsmLocalConfig = (env: NodeJS.ProcessEnv = process.env): CloudHsmLocalConfig =>
  loadConfig(cloudHsmLocalConfigSchema, env);
