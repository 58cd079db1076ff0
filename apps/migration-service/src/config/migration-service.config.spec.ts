import { loadMigrationServiceConfig } from './migration-service.config';

describe(loadMigrationServiceConfig.name, () => {
  it('owns the migration_service schema and listens on 3103 by default', () => {
    const sut = loadMigrationServiceConfig({ KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://k:p@127.0.0.1:5432/keyfleet' });
    expect(sut.db.schema).toBe('migration_service');
    expect(sut.http.port).toBe(3103);
  });

  it('names the missing brokers', () => {
    expect(() => loadMigrationServiceConfig({ DATABASE_URL: 'postgres://k:p@127.0.0.1:5432/keyfleet' })).toThrow('KAFKA_BROKERS: required');
  });
});
