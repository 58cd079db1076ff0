import { userInfo } from 'node:os';
import { z } from 'zod';
import { envFields, loadConfig } from '@keyfleet/config';

/** The CLI's environment: where Kafka is, which topic namespace, who the operator is. */
export const cliConfigSchema = z
  .object({
    KAFKA_BROKERS: envFields.brokers(),
    KAFKA_TOPIC_PREFIX: envFields.topicPrefix(),
    KEYFLEET_OPERATOR: z
      .string()
      .regex(/^[A-Za-z0-9._@-]{1,64}$/, 'expected 1-64 letters, digits, . _ @ -')
      .optional(),
  })
  .transform((env) => ({
    kafka: { brokers: env.KAFKA_BROKERS, topicPrefix: env.KAFKA_TOPIC_PREFIX },
    operator: env.KEYFLEET_OPERATOR,
  }));
export type CliConfig = z.output<typeof cliConfigSchema>;

export const loadCliConfig = (env: NodeJS.ProcessEnv = process.env): CliConfig => loadConfig(cliConfigSchema, env);

/** The operator recorded as the command's actor: --actor, else KEYFLEET_OPERATOR, else the OS user. */
export function operatorId(flag: string | undefined, config: CliConfig): string {
  return flag ?? config.operator ?? userInfo().username;
}
