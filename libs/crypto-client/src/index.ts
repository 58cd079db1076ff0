export { createGatewayClient, devIdentity, loadGatewayService, type CryptoClientOptions, type GatewayClient, type GatewayService } from './lib/crypto.client';
