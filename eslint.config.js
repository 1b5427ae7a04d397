// ESLint (flat config): the recommended rules of JavaScript, typescript-eslint and eslint-plugin-svelte,
// and the layering rule of the architecture — core/ at the bottom, importing nothing above it;
// dashboard/ never imports jobs/ (README.md, "Layout"). `npm run lint` runs it, and CI runs that.
import js from '@eslint/js';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

/** Forbid relative imports that reach into the named top-level folders. */
const mayNotImport = (folders, why) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: [{ regex: `^(\\.\\./)+(${folders.join('|')})/`, message: `${why} (README.md, "Layout").` }]
    }
  ]
});

export default ts.config(
  { ignores: ['build/', '.svelte-kit/', 'node_modules/', 'test-results/', '.data/', '.cache/', 'semantic-layer/test-model/model/'] },
  js.configs.recommended,
  ...ts.configs.recommended,
  ...svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } }
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'], svelteConfig } }
  },
  {
    rules: {
      // Unused names are errors, except the _-prefixed ones we keep on purpose (destructuring a field away).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }
      ],
      // The app is served at the root (no kit.paths.base), and its links are built from area codes
      // the server checked: resolve() would add nothing but noise.
      'svelte/no-navigation-without-resolve': 'off',
      // Reactive state is $state/$derived; a Map, Set or URLSearchParams here is a local value or a
      // cache read outside the template (the live feed's), never state the template must track.
      'svelte/prefer-svelte-reactivity': 'off'
    }
  },
  {
    // Tests and benchmarks poke at untyped rows and parsed JSON.
    files: ['tests/**', '**/*.test.ts', 'bench/**', 'dashboard/e2e/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' }
  },
  // The layering rule.
  {
    files: ['core/**'],
    rules: mayNotImport(
      ['dashboard', 'jobs', 'seeds', 'semantic-layer', 'tests', 'bench'],
      'core/ is the bottom layer: it imports no other folder of the project'
    )
  },
  {
    files: ['dashboard/**'],
    ignores: ['dashboard/e2e/**'],
    rules: mayNotImport(
      ['jobs', 'seeds', 'tests', 'bench'],
      'dashboard/ reaches data through core/ and semantic-layer/, never jobs/ or seeds/'
    )
  },
  {
    files: ['semantic-layer/**'],
    rules: mayNotImport(['dashboard', 'jobs', 'seeds', 'tests', 'bench'], 'semantic-layer/ imports only core/')
  },
  { files: ['seeds/**'], rules: mayNotImport(['dashboard', 'jobs', 'semantic-layer', 'tests', 'bench'], 'seeds/ imports only core/') },
  { files: ['jobs/**'], rules: mayNotImport(['dashboard', 'tests', 'bench'], 'jobs/ never imports the web app') }
);
