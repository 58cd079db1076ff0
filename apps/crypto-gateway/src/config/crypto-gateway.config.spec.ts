import { loadCryptoGatewayConfig } from './crypto-gateway.config';

describe(loadCryptoGatewayConfig.name, () => {
  it('listens on 3100 and needs no database', () => {
    expect(loadCryptoGatewayConfig({ KAFKA_BROKERS: '127.0.0.1:9092' }).http).toEqual({ host: '127.0.0.1', port: 3100 });
  });

  it('names the missing brokers', () => {
    expect(() => loadCryptoGatewayConfig({})).toThrow('KAFKA_BROKERS: required');
  });
});
