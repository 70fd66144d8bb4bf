// ESLint flat config. Type-aware typescript-eslint rules on every .ts file (through the project
// service, so the same tsconfig.json as `npm run typecheck`); plain .js files lint without types.
// The point is to catch promise mistakes (floating, misused, awaited non-thenables) in a codebase
// that is async all the way down; style is left to the authors.
import { defineConfig } from 'eslint/config';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import tseslint from 'typescript-eslint';

// ESLint's own recommended rules (what @eslint/js `configs.recommended` holds), taken from the rule
// metadata because @eslint/js is not a dependency. typescript-eslint's configs below switch off the
// ones TypeScript already covers (no-undef, no-redeclare, no-unused-vars, ...).
const eslintRecommended = Object.fromEntries(
  [...builtinRules].filter(([, rule]) => rule.meta?.docs?.recommended).map(([name]) => [name, 'error']),
);

export default defineConfig(
  {
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'bench/results/',
      '.tmp/',
      '**/fixtures/**',
      // The guest bundle (scripts/build-guest.ts writes dist/engines/guest-runtime.js), wherever it goes.
      '**/guest-runtime.js',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'warn' },
  },
  {
    files: ['**/*.{ts,mts,cts,js,mjs,cjs}'],
    rules: eslintRecommended,
  },
  {
    files: ['**/*.ts', '**/*.mts', '**/*.cts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // The reason this config exists: every promise is awaited, returned, or explicitly voided.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off', // async methods that satisfy an async contract are fine
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // Tests and benchmarks poke at loosely typed results (JSON payloads, error shapes, mocks).
    files: ['test/**/*.ts', 'bench/**/*.ts', 'examples/**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off', // expect(obj.method).toHaveBeenCalled()
    },
  },
  {
    // Guest code captures host functions and intrinsics up front (`const now = Date.now`) so user
    // code cannot swap them later: detached methods are the point there.
    files: ['src/engines/guest/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    // Plain JavaScript (this file, scripts): parsed by typescript-eslint, but no type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      parser: tseslint.parser,
      sourceType: 'module',
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly' },
    },
  },
);
