// Lint with zero warnings (npm run lint). Type-aware rules from typescript-eslint and Nx
// module boundaries driven by project tags (see docs/workspace.md).
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const SCOPES = ['crypto-gateway', 'key-service', 'rotation-service', 'migration-service', 'audit-service', 'cloudhsm-local', 'cli'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.nx/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      // Nest decorators need the runtime class imports that this rule would turn into type imports.
      '@typescript-eslint/consistent-type-exports': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            // type:testing is allowed by tags but only from test files (no-restricted-imports below).
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:domain', 'type:infra', 'type:contracts', 'type:util', 'type:testing'] },
            { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:domain', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts', 'type:util'] },
            { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:infra', 'type:contracts', 'type:util'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            ...SCOPES.map((scope) => ({ sourceTag: `scope:${scope}`, onlyDependOnLibsWithTags: [`scope:${scope}`, 'scope:shared'] })),
          ],
        },
      ],
    },
  },
  {
    // Test-support code may only be imported by tests.
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.integration-spec.ts', '**/testing/**', '**/bench/**', 'libs/testing/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [{ name: '@keyfleet/testing', message: 'test support is for *.spec.ts and *.integration-spec.ts only' }] }] },
  },
  {
    // Tests: expect(...) on mocks and loose JSON are fine; floating promises are still errors.
    files: ['**/*.spec.ts', '**/*.integration-spec.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
      // expect.any()/expect.stringMatching() are typed any by Jest.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
