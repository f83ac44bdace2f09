import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/** Core's layers, lowest first: a folder may import only from folders before it (and itself). */
const layers = [
  'domain',
  'stores',
  'memory',
  'datasets',
  'formats',
  'training',
  'serving',
  'registry',
  'testing',
];
const core = 'packages/core/src';

export const layerRules = {
  files: ['packages/*/src/**/*.ts', 'examples/*/src/**/*.{ts,tsx}'],
  plugins: { 'import-x': importX },
  settings: {
    // Without these, import-x treats only .js/.mjs/.cjs as modules and no-cycle silently skips
    // every TypeScript file (it reported zero cycles while registry/runs.ts ↔ log-model.ts existed).
    'import-x/extensions': ['.ts', '.tsx', '.js', '.mjs', '.cjs'],
    'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
    'import-x/resolver-next': [
      createTypeScriptImportResolver({
        project: ['packages/*/tsconfig.json', 'examples/*/tsconfig.json'],
        noWarnOnMultipleProjects: true,
      }),
    ],
  },
  rules: {
    'import-x/no-cycle': ['error', { ignoreExternal: true }],
    'import-x/no-restricted-paths': [
      'error',
      {
        zones: layers.slice(0, -1).map((layer, i) => ({
          target: `./${core}/${layer}`,
          from: layers.slice(i + 1).map((above) => `./${core}/${above}`),
          message: `core's layers point one way (${layers.join(' → ')}): ${layer} may not import from a later layer`,
        })),
      },
    ],
  },
};
