import { loadConfig, messagingServiceConfig, type MessagingServiceConfig } from '@keyfleet/config';

/** crypto-gateway: HTTP 3100 (health, metrics); no database on its hot path. */
export const cryptoGatewayConfigSchema = messagingServiceConfig({ defaultPort: 3100 });
export type CryptoGatewayConfig = MessagingServiceConfig;

export const loadCryptoGatewayConfig = (env: NodeJS.ProcessEnv = process.env): CryptoGatewayConfig =>
  loadConfig(cryptoGatewayConfigSchema, env);
