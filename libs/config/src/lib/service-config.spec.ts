import { ConfigException } from './config.exception';
import { loadConfig } from './load-config';
import { dataServiceConfig, messagingServiceConfig } from './service-config';

describe(dataServiceConfig.name, () => {
  const sut = dataServiceConfig({ service: 'key-service', defaultPort: 3101, schema: 'key_service' });
  const required = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/keyfleet' };

  it('gives typed nested config with the service schema and defaults', () => {
    expect(loadConfig(sut, required)).toEqual({
      http: { host: '127.0.0.1', port: 3101 },
      log: { level: 'info' },
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'key-service', topicPrefix: '', partitions: 3, replicationFactor: 1 },
      db: { url: 'postgres://u:p@127.0.0.1:5432/keyfleet', schema: 'key_service' },
    });
  });

  it('lets a test suite isolate itself in another schema', () => {
    expect(loadConfig(sut, { ...required, DATABASE_SCHEMA: 'it_key_service_1' }).db.schema).toBe('it_key_service_1');
    expect(() => loadConfig(sut, { ...required, DATABASE_SCHEMA: 'x; drop' })).toThrow(
      'DATABASE_SCHEMA: expected a lower-case SQL identifier, got "x; drop"',
    );
  });

  it('requires the database and the brokers', () => {
    expect(() => loadConfig(sut, {})).toThrow(new ConfigException(['KAFKA_BROKERS: required', 'DATABASE_URL: required']));
  });

  it('refuses a topic prefix Kafka could not use', () => {
    expect(() => loadConfig(sut, { ...required, KAFKA_TOPIC_PREFIX: 'no spaces' })).toThrow(/KAFKA_TOPIC_PREFIX: expected dot-terminated segments/);
  });
});

describe(messagingServiceConfig.name, () => {
  const sut = messagingServiceConfig({ service: 'crypto-gateway', defaultPort: 3100 });

  it('does not ask for a database', () => {
    expect(loadConfig(sut, { KAFKA_BROKERS: 'k:9092', HTTP_PORT: '8080' })).toMatchObject({ http: { port: 8080 } });
  });

  it('takes the Kafka client id from the environment when given', () => {
    expect(loadConfig(sut, { KAFKA_BROKERS: 'k:9092', KAFKA_CLIENT_ID: 'gw-blue' }).kafka.clientId).toBe('gw-blue');
  });
});
