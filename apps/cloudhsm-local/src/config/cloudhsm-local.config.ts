import { z } from 'zod';
import { envFields, loadConfig } from '@keyfleet/config';

/**
 * cloudhsm-local: the AWS stand-in (CloudHSMv2, KMS, Secrets Manager protocols) on
 * 127.0.0.1:4510 by default. It does not use Kafka: AWS does not talk to keyfleet's bus.
 */
export const cloudHsmLocalConfigSchema = z
  .object({
    HTTP_HOST: envFields.host().default('127.0.0.1'),
    HTTP_PORT: envFields.port().default('4510'),
    LOG_LEVEL: envFields.logLevel(),
  })
  .transform((env) => ({ http: { host: env.HTTP_HOST, port: env.HTTP_PORT }, log: { level: env.LOG_LEVEL } }));
export type CloudHsmLocalConfig = z.output<typeof cloudHsmLocalConfigSchema>;

export const loadCloudHsmLocalConfig = (env: NodeJS.ProcessEnv = process.env): CloudHsmLocalConfig =>
  loadConfig(cloudHsmLocalConfigSchema, env);
