import { ConfigException } from '@keyfleet/config';
import { loadMigrationServiceConfig } from './migration-service.config';

describe(loadMigrationServiceConfig.name, () => {
  const sut = loadMigrationServiceConfig;
  const required = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://keyfleet:pw@127.0.0.1:5432/keyfleet' };

  it('owns the migration_service schema and listens on 127.0.0.1:3103 by default', () => {
    expect(sut(required)).toMatchObject({
      http: { host: '127.0.0.1', port: 3103 },
      log: { level: 'info' },
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'migration-service' },
      db: { url: required.DATABASE_URL, schema: 'migration_service' },
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
