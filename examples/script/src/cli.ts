#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { isRegistryError } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import { commands, type CommandContext } from './commands.js';

const usage = `modelreg example script

Usage: npm run quickstart            (from the repository root)
       node examples/script/dist/cli.js <command> [options]

Commands:
  quickstart   upload the sample CSV, train a random forest, register it, promote it, predict (default)
  train        upload --data and train on it; --register to create a version
  register     register the model of a run: --run <id> --name <model>
  promote      move a version to a stage: --name <model> --version <n> [--stage production]
  predict      predict every row of a CSV with a model URI: --model models:/<name>/production --data <csv>
               (reads the file directly: nothing is written to the registry; without --data, the
               first 10 rows of the bundled sample)
  list         list datasets, models and their versions

Options:
  --data <path>      CSV file (default: the bundled energy_load.csv sample)
  --target <column>  target column (default: target)
  --name <model>     registered model name (default: energy_load)
  --experiment <n>   experiment of the training run (default: the model name)
  --model <uri>      model URI for predict (default: models:/<name>/production)
  --type <trainer>   random-forest | decision-tree (default: random-forest)
  --trees <n>        number of trees (default: 30)
  --run <id>         run id (register)
  --version <n>      version number (promote)
  --stage <stage>    stage (promote; default production)
  --register         register the trained model (train)
  --json             print JSON instead of text

Storage follows MODELREG_DIR (default ./.modelreg where the command is run), MODELREG_METADATA_URL,
MODELREG_ARTIFACTS_URL and MODELREG_STAGES (default none,staging,production,archived).`;

/** A usage error: one line, the usage, exit code 2. */
function usageError(message: string): number {
  console.error(`error: ${message}\n\n${usage}`);
  return 2;
}

const options = {
  data: { type: 'string' },
  target: { type: 'string', default: 'target' },
  name: { type: 'string', default: 'energy_load' },
  experiment: { type: 'string' },
  model: { type: 'string' },
  type: { type: 'string', default: 'random-forest' },
  trees: { type: 'string', default: '30' },
  run: { type: 'string' },
  version: { type: 'string' },
  stage: { type: 'string', default: 'production' },
  register: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ allowPositionals: true, strict: true, options });
  } catch (e) {
    // node:util's messages are one line (`Unknown option '--x'. …`); the first sentence is enough.
    return usageError(e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const command = positionals[0] ?? 'quickstart';
  if (!Object.hasOwn(commands, command)) return usageError(`unknown command "${command}"`);
  if (positionals.length > 1) return usageError(`unexpected argument "${positionals[1]}"`);
  // A one-shot command serves nothing while it trains, and exits after: it trains on a worker thread
  // (no child process to start) unless MODELREG_TRAIN_ISOLATION says otherwise.
  const { registry, describe } = await openRegistryFromEnv({
    MODELREG_TRAIN_ISOLATION: 'thread',
    ...process.env,
  });
  if (!values.json) console.error(`registry  ${describe}`);
  const ctx: CommandContext = {
    registry,
    describe,
    options: values,
    print: (text) => {
      if (!values.json) console.log(text);
    },
  };
  try {
    const result = await commands[command as keyof typeof commands](ctx);
    if (values.json) console.log(JSON.stringify(result, null, 2));
    return 0;
  } finally {
    await registry.close();
  }
}

/** Exits once stdout and stderr are flushed: a pipe may still hold the tail of a long output. */
function exit(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

main().then(exit, (error: unknown) => {
  if (isRegistryError(error)) console.error(`error ${error.code}: ${error.message}`);
  else console.error(error);
  exit(1);
});
