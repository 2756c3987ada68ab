// ESLint for the TypeScript sources: typescript-eslint's strict type-checked rules, with the few this
// code base decides otherwise on written out with the reason. Formatting is Prettier's.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.venv/', 'bench/results/', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Numbers and booleans read well in messages; objects and nullish values still need saying how.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // `noUncheckedIndexedAccess` is on: `items[index]!` after a bounds check is the idiom it asks for.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // A rejection follows the rule of a throw: only-throw-error allows throwing what is typed `any` or
      // `unknown` (by default), and rejecting with an AbortSignal's reason (typed `any`, and not always an
      // Error: the request engine aborts its timers with a symbol) is the platform's convention too.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // `() => resolve()` and `(line) => void write(line)` are clear as they are.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true, ignoreVoidOperator: true }],
      // node:test's `test`, `describe` and hooks return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
    },
  },
  {
    // The rule for core/, plugins/ and the worker: no function longer than 80 lines.
    files: ['core/**/*.ts', 'plugins/**/*.ts', 'bin/**/*.ts'],
    rules: { 'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }] },
  },
);
