import { resolve } from 'node:path';
import { z } from 'zod';
import { httpAndLogFields, loadConfig } from '@keyfleet/config';

/**
 * cloudhsm-local: the AWS stand-in (CloudHSMv2, Secrets Manager and later KMS protocols)
 * on 127.0.0.1:4510 by default. It takes no Kafka or database settings: AWS does not talk
 * to keyfleet's bus, so neither does its stand-in.
 *
 * - CLOUDHSM_LOCAL_DATA_DIR: where state is persisted (default `.cache/cloudhsm-local`)
 * - AWS_ACCOUNT_ID: the account in ARNs (default 111122223333, AWS's documentation account)
 * - CLOUDHSM_LOCAL_TIMINGS: `instant` (tests) or `realistic` (demos: minutes per cluster/HSM)
 * - CLOUDHSM_LOCAL_HSM_QUOTA: HSMs per account and region (AWS's default quota is 6)
 * - CLOUDHSM_LOCAL_DEMO_ESTATE: a region to seed with the demo estate at start, or `off`
 * - CLOUDHSM_LOCAL_LOGIN_DIR: where PKCS#11 clients leave login markers; when set, a password
 *   change or deletion of a logged-in crypto user is refused (as CloudHSM does)
 * - CLOUDHSM_LOCAL_SOFTHSM: `on` mirrors crypto users and keys into SoftHSM2 tokens
 *   (needs SOFTHSM2_CONF; PKCS11_MODULE defaults to Debian's libsofthsm2.so)
 */
export const cloudHsmLocalConfigSchema = z
  .object({
    ...httpAndLogFields(4510),
    CLOUDHSM_LOCAL_DATA_DIR: z.string().min(1).default('.cache/cloudhsm-local'),
    AWS_ACCOUNT_ID: z.string().regex(/^\d{12}$/, 'expected 12 digits').default('111122223333'),
    CLOUDHSM_LOCAL_TIMINGS: z.enum(['instant', 'realistic']).default('instant'),
    CLOUDHSM_LOCAL_HSM_QUOTA: z.string().regex(/^\d{1,3}$/, 'expected an integer 1-999').default('6').transform(Number),
    CLOUDHSM_LOCAL_SOFTHSM: z.enum(['on', 'off']).default('off'),
    CLOUDHSM_LOCAL_LOGIN_DIR: z.string().min(1).optional(),
    SOFTHSM2_CONF: z.string().min(1).optional(),
    PKCS11_MODULE: z.string().min(1).default('/usr/lib/softhsm/libsofthsm2.so'),
    CLOUDHSM_LOCAL_DEMO_ESTATE: z
      .string()
      .regex(/^(off|[a-z]{2}(-[a-z]+)+-\d)$/, 'expected off or a region such as us-east-1')
      .default('off'),
  })
  .refine((env) => env.CLOUDHSM_LOCAL_SOFTHSM === 'off' || env.SOFTHSM2_CONF !== undefined, {
    message: 'required when CLOUDHSM_LOCAL_SOFTHSM is on',
    path: ['SOFTHSM2_CONF'],
  })
  .transform((env) => ({
    http: { host: env.HTTP_HOST, port: env.HTTP_PORT },
    log: { level: env.LOG_LEVEL },
    dataDir: resolve(env.CLOUDHSM_LOCAL_DATA_DIR),
    account: env.AWS_ACCOUNT_ID,
    timings: env.CLOUDHSM_LOCAL_TIMINGS,
    hsmsPerRegion: env.CLOUDHSM_LOCAL_HSM_QUOTA,
    demoEstateRegion: env.CLOUDHSM_LOCAL_DEMO_ESTATE === 'off' ? undefined : env.CLOUDHSM_LOCAL_DEMO_ESTATE,
    softHsm: env.CLOUDHSM_LOCAL_SOFTHSM === 'on' && env.SOFTHSM2_CONF !== undefined ? { module: env.PKCS11_MODULE, conf: resolve(env.SOFTHSM2_CONF) } : undefined,
    loginDir: env.CLOUDHSM_LOCAL_LOGIN_DIR === undefined ? undefined : resolve(env.CLOUDHSM_LOCAL_LOGIN_DIR),
  }));
export type CloudHsmLocalConfig = z.output<typeof cloudHsmLocalConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad variable. */
export const loadCloudHsmLocalConfig = (env: NodeJS.ProcessEnv = process.env): CloudHsmLocalConfig =>
  loadConfig(cloudHsmLocalConfigSchema, env);
