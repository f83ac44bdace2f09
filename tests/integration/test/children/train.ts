// Child: trains, registers and promotes a model on a shared SQLite file + folder.
import { readFileSync } from 'node:fs';
import { ModelRegistry } from '@modelreg/core';
import { devStores, irisCsv } from '../registries.js';

const [dir] = process.argv.slice(2);
const registry = await ModelRegistry.open(devStores(dir!));
await registry.datasets.upload('iris.csv', readFileSync(irisCsv));
const result = await registry.train({
  dataset: 'iris',
  target: 'species',
  model: { type: 'random-forest', params: { nEstimators: 8, maxDepth: 5 } },
  register: { name: 'iris', stage: 'production' },
});
process.stdout.write(JSON.stringify({ version: result.version?.version }) + '\n');
await registry.close();
