import { ConfigException } from '@keyfleet/config';
import { loadKeyServiceConfig } from './key-service.config';

describe(loadKeyServiceConfig.name, () => {
  const sut = loadKeyServiceConfig;
  const required = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://keyfleet:pw@127.0.0.1:5432/keyfleet' };

  it('owns the key_service schema and listens on 127.0.0.1:3101 by default', () => {
    expect(sut(required)).toMatchObject({
      http: { host: '127.0.0.1', port: 3101 },
      log: { level: 'info' },
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'key-service' },
      db: { url: required.DATABASE_URL, schema: 'key_service' },
    });
  });

  it('names every missing variable', () => {
    expect(() => sut({})).toThrow(new ConfigException(['KAFKA_BROKERS: required', 'DATABASE_URL: required']));
  });

  it('says what is wrong with a bad database URL without showing its password', () => {
    expect(() => sut({ ...required, DATABASE_URL: 'postgres://keyfleet:hunter2@db' })).toThrow(
      'DATABASE_URL: expected postgres://user:password@host:port/database, got "postgres://***@db"',
    );
  });
});
