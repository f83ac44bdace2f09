// Proves that the layer check in eslint.config.js bites: with the repository's own ESLint config, a
// planted upward import and a planted two-file cycle must each be reported, and a planted legal import
// must not. Run by `npm run lint` after `eslint .` (which checks the tree itself).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const core = join(root, 'packages/core/src');
const tag = `planted-layer-check-${process.pid}`;

/** Files written for the check, relative to core's src; removed afterwards whatever happens. */
const planted = {
  // formats sits below registry: importing the facade from formats is an upward import.
  upward: [
    `formats/${tag}-upward.ts`,
    `import { ModelRegistry } from '../registry/model-registry.js';\nexport const registry = ModelRegistry;\n`,
  ],
  // Two registry files that import each other: a file-level cycle inside one layer.
  cycleA: [
    `registry/${tag}-cycle-a.ts`,
    `import { b } from './${tag}-cycle-b.js';\nexport const a = (): number => b() + 1;\n`,
  ],
  cycleB: [
    `registry/${tag}-cycle-b.ts`,
    `import { a } from './${tag}-cycle-a.js';\nexport const b = (): number => (Math.random() > 2 ? a() : 0);\n`,
  ],
  // registry importing formats points down: allowed.
  legal: [
    `registry/${tag}-legal.ts`,
    `import { parseManifest } from '../formats/manifest.js';\nexport const parse = parseManifest;\n`,
  ],
};

const expectations = [
  { file: 'upward', rule: 'import-x/no-restricted-paths', fails: true },
  { file: 'cycleA', rule: 'import-x/no-cycle', fails: true },
  { file: 'cycleB', rule: 'import-x/no-cycle', fails: true },
  { file: 'legal', rule: null, fails: false },
];

const paths = Object.fromEntries(Object.entries(planted).map(([k, [p]]) => [k, join(core, p)]));
let failed = false;
try {
  for (const [key, [, text]] of Object.entries(planted)) {
    mkdirSync(dirname(paths[key]), { recursive: true });
    writeFileSync(paths[key], text);
  }
  const eslint = new ESLint({ cwd: root });
  const results = await eslint.lintFiles(Object.values(paths));
  const byPath = new Map(results.map((r) => [r.filePath, r.messages]));
  for (const { file, rule, fails } of expectations) {
    const messages = byPath.get(paths[file]) ?? [];
    const layerMessages = messages.filter((m) => m.ruleId?.startsWith('import-x/'));
    const hit = rule ? layerMessages.some((m) => m.ruleId === rule) : layerMessages.length > 0;
    const ok = fails ? hit : !hit;
    const shown = relative(root, paths[file]).replace(`${tag}-`, 'planted-');
    const said =
      layerMessages.map((m) => `${m.ruleId}: ${m.message.split('. ')[0]}`).join('; ') || 'no layer error';
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${shown}: expected ${fails ? rule : 'no layer error'}, got ${said}`);
    if (!ok) failed = true;
  }
} finally {
  for (const p of Object.values(paths)) rmSync(p, { force: true });
}
if (failed) {
  console.error('the layer check did not catch a planted violation (see eslint.layers.js)');
  process.exit(1);
}
console.log(
  'layer check: planted upward import and planted cycle are both reported; a downward import is not',
);
