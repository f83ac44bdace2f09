import { fileURLToPath } from 'node:url';

const core = (p: string): string => fileURLToPath(new URL(`./packages/core/src/${p}`, import.meta.url));

/** Tests run against core's TypeScript source, so no build is needed between a core change and a test. */
export const coreAlias = [
  { find: /^@modelreg\/core\/testing$/, replacement: core('testing/index.ts') },
  { find: /^@modelreg\/core$/, replacement: core('index.ts') },
];
