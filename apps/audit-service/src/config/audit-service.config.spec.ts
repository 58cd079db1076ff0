import { ConfigException } from '@keyfleet/config';
import { loadAuditServiceConfig } from './audit-service.config';

describe(loadAuditServiceConfig.name, () => {
  const sut = loadAuditServiceConfig;
  const required = { KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://keyfleet:pw@127.0.0.1:5432/keyfleet' };

  it('owns the audit_service schema and listens on 127.0.0.1:3104 by default', () => {
    expect(sut(required)).toMatchObject({
      http: { host: '127.0.0.1', port: 3104 },
      log: { level: 'info' },
      kafka: { brokers: ['127.0.0.1:9092'], clientId: 'audit-service' },
      db: { url: required.DATABASE_URL, schema: 'audit_service' },
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
