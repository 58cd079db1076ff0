import { loadCloudHsmLocalConfig } from './cloudhsm-local.config';

describe(loadCloudHsmLocalConfig.name, () => {
  it('listens on 127.0.0.1:4510 by default', () => {
    expect(loadCloudHsmLocalConfig({}).http).toEqual({ host: '127.0.0.1', port: 4510 });
  });

  it('names a bad port without echoing it', () => {
    expect(() => loadCloudHsmLocalConfig({ HTTP_PORT: '99999' })).toThrow('HTTP_PORT: expected an integer 1-65535');
  });
});
