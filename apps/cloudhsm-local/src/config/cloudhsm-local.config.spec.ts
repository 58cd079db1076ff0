import { ConfigException } from '@keyfleet/config';
import { loadCloudHsmLocalConfig } from './cloudhsm-local.config';

describe(loadCloudHsmLocalConfig.name, () => {
  const sut = loadCloudHsmLocalConfig;

  it('listens on 127.0.0.1:4510 by default and needs neither Kafka nor a database', () => {
    expect(sut({})).toMatchObject({
      http: { host: '127.0.0.1', port: 4510 },
      log: { level: 'info' },
      account: '111122223333',
      timings: 'instant',
      hsmsPerRegion: 6,
    });
    expect(sut({}).dataDir).toMatch(/\/\.cache\/cloudhsm-local$/);
  });

  it('refuses an account id that is not 12 digits', () => {
    expect(() => sut({ AWS_ACCOUNT_ID: '12' })).toThrow(/AWS_ACCOUNT_ID: expected 12 digits/);
  });

  it('names a bad port and what it got', () => {
    expect(() => sut({ HTTP_PORT: '99999' })).toThrow(new ConfigException(['HTTP_PORT: expected an integer 1-65535, got "99999"']));
  });
});
