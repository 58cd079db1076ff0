// Lint with zero warnings (npm run lint): type-aware typescript-eslint rules, and Nx module
// boundaries driven by the tags in each project.json (see docs/workspace.md).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const TS = ['**/*.ts'];
const TEST_FILES = ['**/*.spec.ts', '**/*.integration-spec.ts', '**/*.test-kit.ts', '**/*.bench.ts'];
const APP_SCOPES = ['crypto-gateway', 'key-service', 'rotation-service', 'migration-service', 'audit-service', 'cloudhsm-local', 'cli'];

/**
 * Who may depend on whom. Tests of an app may also use `type:testing` (process and
 * infrastructure helpers); production code may not, which is also why `@keyfleet/testing`
 * is a restricted import outside test files below.
 */
const depConstraints = ({ inTests }) => [
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:domain', 'type:infra', 'type:contracts', 'type:util', ...(inTests ? ['type:testing'] : [])],
  },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts', 'type:util'] },
  // Contracts are the shared language of every service: they depend on no project at all.
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts', 'type:util'] },
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  ...APP_SCOPES.map((scope) => ({ sourceTag: `scope:${scope}`, onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'] })),
];

const moduleBoundaries = (options) => [
  'error',
  { enforceBuildableLibDependency: false, allowCircularSelfDependency: false, allow: [], depConstraints: depConstraints(options) },
];

export default tseslint.config(
  {
    // Generated output, dependencies, caches, and JavaScript tooling/config files (this one excepted).
    ignores: ['dist/**', 'node_modules/**', '.cache/**', '.nx/**', 'coverage/**', 'tmp/**', '**/*.js', '**/*.cjs', '**/*.mjs', '!eslint.config.mjs'],
  },
  {
    // This file: syntax-level rules only (it is not part of the TypeScript program).
    files: ['eslint.config.mjs'],
    extends: [tseslint.configs.recommended],
  },
  {
    files: TS,
    extends: [tseslint.configs.recommendedTypeChecked],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': moduleBoundaries({ inTests: false }),
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@keyfleet/testing', message: 'test support is for *.spec.ts and *.integration-spec.ts files only' }] },
      ],
    },
  },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': moduleBoundaries({ inTests: true }),
      'no-restricted-imports': 'off',
      // expect(mock.method) and Jest's asymmetric matchers (typed any) are normal in tests.
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // Fakes implement async ports without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
);
