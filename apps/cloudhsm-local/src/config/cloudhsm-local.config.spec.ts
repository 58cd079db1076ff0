import { ConfigException } from '@keyfleet/config';
import { loadCloudHsmLocalConfig } from './cloudhsm-local.config';

describe(loadCloudHsmLocalConfig.name, () => {
  const sut = loadCloudHsmLocalConfig;

  it('listens on 127.0.0.1:4510 by default and needs neither Kafka nor a database', () => {
    expect(sut({})).toEqual({ http: { host: '127.0.0.1', port: 4510 }, log: { level: 'info' } });
  });

  it('names a bad port and what it got', () => {
    expect(() => sut({ HTTP_PORT: '99999' })).toThrow(new ConfigException(['HTTP_PORT: expected an integer 1-65535, got "99999"']));
  });
});
