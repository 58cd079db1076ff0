import { ConfigException } from '@keyfleet/config';
import { loadKeyServiceConfig } from './key-service.config';

describe(loadKeyServiceConfig.name, () => {
  it('owns the key_service schema and listens on 3101 by default', () => {
    const sut = loadKeyServiceConfig({ KAFKA_BROKERS: '127.0.0.1:9092', DATABASE_URL: 'postgres://k:p@127.0.0.1:5432/keyfleet' });
    expect(sut.db.schema).toBe('key_service');
    expect(sut.http).toEqual({ host: '127.0.0.1', port: 3101 });
  });

  it('names the missing variables', () => {
    expect(() => loadKeyServiceConfig({})).toThrow(ConfigException);
    expect(() => loadKeyServiceConfig({})).toThrow('KAFKA_BROKERS: required; DATABASE_URL: required');
  });
});
