import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigException } from '@keyfleet/config';
import { loadCryptoGatewayConfig, readGatewayFile } from './crypto-gateway.config';

const required = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  GATEWAY_TLS_DIR: '/pki',
  GATEWAY_POLICY_FILE: '/policy.json',
  GATEWAY_CLUSTERS_FILE: '/clusters.json',
  GATEWAY_STATE_DIR: '/state',
};

describe(loadCryptoGatewayConfig.name, () => {
  const sut = loadCryptoGatewayConfig;

  it('serves gRPC on 127.0.0.1:50051 and HTTP on 3100 by default, with faults off and the audit failing closed', () => {
    expect(sut(required)).toMatchObject({
      http: { host: '127.0.0.1', port: 3100 },
      grpc: { host: '127.0.0.1', port: 50051, tlsDir: '/pki', maxMessageBytes: 1048576 },
      retry: { attempts: 3, baseMs: 5, capMs: 200 },
      breaker: { errorThresholdPercentage: 10, rollingWindowMs: 10000, volumeThreshold: 20, resetTimeoutMs: 5000 },
      auditFailOpen: false,
      faults: false,
      operationTimeoutMs: 5000,
      hsm: { module: '/usr/lib/softhsm/libsofthsm2.so', stateDir: '/state' },
    });
  });

  it('takes the operation limit from GATEWAY_OPERATION_TIMEOUT_MS and refuses one that is not a positive number', () => {
    expect(sut({ ...required, GATEWAY_OPERATION_TIMEOUT_MS: '750' })).toMatchObject({ operationTimeoutMs: 750 });
    expect(() => sut({ ...required, GATEWAY_OPERATION_TIMEOUT_MS: '0' })).toThrow(/GATEWAY_OPERATION_TIMEOUT_MS/);
  });

  it('names every missing variable', () => {
    expect(() => sut({})).toThrow(ConfigException);
    expect(() => sut({})).toThrow(/KAFKA_BROKERS: required.*GATEWAY_TLS_DIR: required/);
  });

  it('says what a bad log level should be', () => {
    expect(() => sut({ ...required, LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"');
  });
});

describe(readGatewayFile.name, () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-config-'));
  const write = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it('fills pool defaults', () => {
    const file = readGatewayFile(write('ok.json', JSON.stringify({ clusters: [{ id: 'c1', tokenLabel: 'c1/app', secretId: 's' }], rings: {}, keys: [] })));

    expect(file.clusters[0]).toEqual({ id: 'c1', tokenLabel: 'c1/app', secretId: 's', pinFormat: 'password', poolSize: 16, maxInFlight: 64, isolatedModule: true, ivSource: 'caller' });
  });

  it('explains what is wrong with a bad file', () => {
    expect(() => readGatewayFile(write('bad.json', JSON.stringify({ clusters: [{ id: 'c 1', poolSize: 5000 }], rings: {}, keys: [] })))).toThrow(/clusters\.0\.id.*clusters\.0\.tokenLabel/);
    expect(() => readGatewayFile(write('broken.json', '{'))).toThrow(/cannot read the clusters file/);
  });
});
