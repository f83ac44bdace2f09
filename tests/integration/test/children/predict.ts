// Child: opens the registry on a shared SQLite file + folder and predicts with a model URI.
import { ModelRegistry } from '@modelreg/core';
import { devStores } from '../registries.js';

const [dir, uri, rowsJson] = process.argv.slice(2);
const registry = await ModelRegistry.open(devStores(dir!));
const model = await registry.load(uri!);
const predictions = await model.predict(JSON.parse(rowsJson!) as Record<string, number>[]);
process.stdout.write(
  JSON.stringify({ version: model.version?.version, format: model.format, predictions }) + '\n',
);
await registry.close();
