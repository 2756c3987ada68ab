// ESLint for the TypeScript sources: typescript-eslint's type-checked rules, with the few this code
// base decides otherwise on written out and explained. Formatting is Prettier's (`.prettierrc.json`).
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.venv/', 'bench/results/', '**/*.js', '**/*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // The rule for core/, plugins/ and the worker: no function longer than 80 lines.
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
);
