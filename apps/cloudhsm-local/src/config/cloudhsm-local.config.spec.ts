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

  it('gives the SoftHSM2 materialiser its library and its configuration file (which names the token directory) when on', () => {
    expect(sut({}).softHsm).toBeUndefined();
    expect(sut({ CLOUDHSM_LOCAL_SOFTHSM: 'on', SOFTHSM2_CONF: '/etc/softhsm/softhsm2.conf' }).softHsm).toEqual({
      module: '/usr/lib/softhsm/libsofthsm2.so',
      conf: '/etc/softhsm/softhsm2.conf',
    });
    expect(() => sut({ CLOUDHSM_LOCAL_SOFTHSM: 'on' })).toThrow(/SOFTHSM2_CONF: required when CLOUDHSM_LOCAL_SOFTHSM is on/);
  });
});
