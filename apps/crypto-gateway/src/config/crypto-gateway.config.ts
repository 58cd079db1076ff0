import type { z } from 'zod';
import { messagingServiceConfig, loadConfig } from '@keyfleet/config';

/** crypto-gateway: HTTP 3100 (health, metrics; gRPC later); Kafka, no database on its hot path. Variables: see `messagingServiceConfig`. */
export const cryptoGatewayConfigSchema = messagingServiceConfig({ service: 'crypto-gateway', defaultPort: 3100 });
export type CryptoGatewayConfig = z.output<typeof cryptoGatewayConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad or missing variable. */
export const loadCryptoGatewayConfig = (env: NodeJS.ProcessEnv = process.env): CryptoGatewayConfig =>
  loadConfig(cryptoGatewayConfigSchema, env);
