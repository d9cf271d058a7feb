// Orchestrators replay: any I/O, clock or randomness in them breaks determinism in Azure.
// The rule below makes that a lint error instead of a production incident.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const nodeBuiltins = [
  'fs', 'fs/promises', 'http', 'https', 'net', 'tls', 'dgram', 'dns', 'child_process', 'crypto', 'os',
  'worker_threads', 'cluster', 'process', 'timers', 'timers/promises', 'readline', 'stream', 'zlib', 'path',
];
const ioClients = ['@azure/data-tables', '@azure/storage-queue', '@azure/storage-blob', '@azure/service-bus', 'mssql', 'axios', 'undici', 'node-fetch'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.data/**', 'coverage/**', '.stryker-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node }, ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    files: ['orchestrations/**/*.ts'],
    ignores: ['orchestrations/**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [...nodeBuiltins.flatMap((m) => [m, `node:${m}`]), ...ioClients].map((name) => ({
          name, message: 'Orchestrations must be deterministic: do I/O in an activity.',
        })),
        patterns: [{ group: ['**/worker/**', '**/local/**', '**/shared/storage/**'], message: 'Orchestrations must not import I/O adapters.' }],
      }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Use context.df.currentUtcDateTime.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Use context.df.currentUtcDateTime.' },
        { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'Randomness breaks replay: use context.df.newGuid.' },
        { selector: "CallExpression[callee.name='setTimeout']", message: 'Use context.df.createTimer.' },
        { selector: "CallExpression[callee.name='setInterval']", message: 'Use context.df.createTimer.' },
        { selector: "CallExpression[callee.name='fetch']", message: 'HTTP is I/O: do it in an activity.' },
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Configuration must reach orchestrators as input.' },
        { selector: "CallExpression[callee.object.name='crypto']", message: 'Randomness breaks replay: use context.df.newGuid.' },
      ],
    },
  },
  {
    // The app and the worker share code only through shared/: the Function App must not depend on
    // the on-prem worker's modules (issue 13 §7). Orchestrations have their own stricter rule above.
    files: ['functions/**/*.ts', 'shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ group: ['**/worker/**', '**/worker'], message: 'functions/ and shared/ must not import from worker/: move what both use into shared/.' }],
      }],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // Issue 14 §3: a test's temp folder lives in the run's scratch folder (os.tmpdir() there), and
    // a process it starts is killed with its whole group when the test ends, even by a timeout.
    files: ['test/**/*.ts'],
    ignores: ['test/support/stack-process.ts'],
    rules: {
      'no-restricted-syntax': ['error',
        { selector: 'Literal[value=/^\\/tmp(\\/|$)/]', message: 'No fixed /tmp path: use mkdtempSync(path.join(os.tmpdir(), ...)), inside the run\'s scratch folder.' },
        { selector: 'TemplateElement[value.raw=/^\\/tmp(\\/|$)/]', message: 'No fixed /tmp path: use mkdtempSync(path.join(os.tmpdir(), ...)), inside the run\'s scratch folder.' },
      ],
      'no-restricted-imports': ['error', {
        paths: ['child_process', 'node:child_process'].map((name) => ({
          name, importNames: ['spawn', 'fork'], message: 'Start processes with spawnStack (test/support/stack-process.ts): its own process group, killed whole when the test ends.',
        })),
      }],
    },
  },
);
