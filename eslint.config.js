// ESLint: the recommended JavaScript and TypeScript rules, plus one import style.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', '.gen/', '.gen-cache/', 'cdktf.out/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Relative imports of our own modules carry no suffix: tsx, esbuild and tsc resolve them alike.
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'ImportDeclaration[source.value=/^\\.\\.?\\/.*\\.js$/], ExportNamedDeclaration[source.value=/^\\.\\.?\\/.*\\.js$/], ExportAllDeclaration[source.value=/^\\.\\.?\\/.*\\.js$/]',
          message: 'import our own modules without a suffix',
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // JSON documents and API answers are read loosely here; their shapes are checked at the
      // boundaries (zod schemas, the SDK's models, the provider schema).
      '@typescript-eslint/no-explicit-any': 'off',
      // Control characters in patterns are deliberate: key and XML character rules.
      'no-control-regex': 'off',
    },
  },
  // The page runs in a browser.
  { files: ['web/**/*.js'], languageOptions: { globals: { ...globals.browser } } },
  // Worker entries are plain CommonJS and ESM for Node.
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
