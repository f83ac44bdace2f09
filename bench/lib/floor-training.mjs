// The training beside the floor server (bench/serving-under-training.mjs): what the Express server
// does for POST /train, in a process that serves nothing. The same registry the server opens from its
// environment (@modelreg/example-config: SQLite and files under MODELREG_DIR, training in a train
// process), the CSV uploaded as a dataset, the same random forest; it exits when the version is
// registered.
//
//   MODELREG_DIR=<dir> node bench/lib/floor-training.mjs <csv file> <trees>
import { createReadStream } from 'node:fs';
import { openRegistryFromEnv } from '@modelreg/example-config';

const [csvFile, trees] = process.argv.slice(2);
const { registry } = await openRegistryFromEnv(process.env);
await registry.datasets.upload('friedman.csv', createReadStream(csvFile));
await registry.train({
  experiment: 'bench',
  dataset: 'friedman',
  target: 'y',
  model: { type: 'random-forest', params: { nEstimators: Number(trees) } },
  register: { name: 'friedman_rf' },
});
await registry.close();
