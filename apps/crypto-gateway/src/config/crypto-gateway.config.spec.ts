import { ConfigException } from '@keyfleet/config';
import { loadCryptoGatewayConfig } from './crypto-gateway.config';

describe(loadCryptoGatewayConfig.name, () => {
  const sut = loadCryptoGatewayConfig;

  it('listens on 127.0.0.1:3100 by default and needs no database', () => {
    expect(sut({ KAFKA_BROKERS: '127.0.0.1:9092' })).toEqual({
      http: { host: '127.0.0.1', port: 3100 },
      log: { level: 'info' },
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'crypto-gateway', topicPrefix: '', partitions: 3, replicationFactor: 1 },
    });
  });

  it('names the missing brokers', () => {
    expect(() => sut({})).toThrow(new ConfigException(['KAFKA_BROKERS: required']));
  });

  it('says what a bad log level should be', () => {
    expect(() => sut({ KAFKA_BROKERS: '127.0.0.1:9092', LOG_LEVEL: 'loud' })).toThrow(
      'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
    );
  });
});
