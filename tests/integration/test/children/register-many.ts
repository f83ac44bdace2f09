// Child: opens the registry on a shared SQLite file + folder and registers `count` versions of one model.
import { ModelRegistry } from '@modelreg/core';
import { devStores } from '../registries.js';

const [dir, runId, countArg] = process.argv.slice(2);
const registry = await ModelRegistry.open(devStores(dir!));
const versions: number[] = [];
const errors: string[] = [];
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
for (let i = 0; i < Number(countArg); i++) {
  try {
    versions.push((await registry.registerModel('shared', { runId: runId! })).version);
  } catch (e) {
    errors.push(e instanceof Error ? e.message : String(e));
  }
}
await registry.close();
process.stdout.write(JSON.stringify({ versions, errors }) + '\n');
