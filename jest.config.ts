import type { Config } from 'jest';
import { jestBase } from './tools/jest/jest.base';

/** Unit tests: `*.spec.ts` beside the code, no outside systems (fakes at the ports). */
const config: Config = {
  ...jestBase,
  displayName: 'unit',
  testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts'],
};

export default config;
