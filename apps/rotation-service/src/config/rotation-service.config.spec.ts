import { loadRotationServiceConfig } from './rotation-service.config';

describe(loadRotationServiceConfig.name, () => {
  it('owns the rotation_service schema and listens on 3102 by default', () => {
    const sut = loadRotationServiceConfig({ KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://k:p@127.0.0.1:5432/keyfleet' });
    expect(sut.db.schema).toBe('rotation_service');
    expect(sut.http.port).toBe(3102);
  });

  it('names the missing brokers', () => {
    expect(() => loadRotationServiceConfig({ DATABASE_URL: 'postgres://k:p@127.0.0.1:5432/keyfleet' })).toThrow('KAFKA_BROKERS: required');
  });
});
