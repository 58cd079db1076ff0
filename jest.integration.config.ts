import type { Config } from 'jest';
import { jestBase } from './tools/jest/jest.base';

/**
 * Integration tests: `*.integration-spec.ts`, against the real Kafka, PostgreSQL and SoftHSM2
 * that `npm run infra:up` starts. Suites run one at a time (2 cores, one broker); each suite
 * isolates itself with its own schema, topic prefix and consumer group.
 */
const config: Config = {
  ...jestBase,
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs}/**/*.integration-spec.ts'],
  maxWorkers: 1,
  testTimeout: 120_000,
};

export default config;
