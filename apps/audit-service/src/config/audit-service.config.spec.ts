import { loadAuditServiceConfig } from './audit-service.config';

describe(loadAuditServiceConfig.name, () => {
  it('owns the audit_service schema and listens on 3104 by default', () => {
    const sut = loadAuditServiceConfig({ KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://k:p@127.0.0.1:5432/keyfleet' });
    expect(sut.db.schema).toBe('audit_service');
    expect(sut.http.port).toBe(3104);
  });

  it('names a missing database URL', () => {
    expect(() => loadAuditServiceConfig({ KAFKA_BROKERS: '127.0.0.1:9092' })).toThrow('DATABASE_URL: required');
  });
});
