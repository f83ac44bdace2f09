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
  predict      predict rows of a CSV with a model URI: --model models:/<name>/production --data <csv>
  list         list datasets, models and their versions

Options:
  --data <path>      CSV file (default: the bundled energy_load.csv sample)
  --target <column>  target column (default: target)
  --name <model>     registered model name (default: energy_load)
  --model <uri>      model URI for predict (default: models:/<name>/production)
  --type <trainer>   random-forest | decision-tree (default: random-forest)
  --trees <n>        number of trees (default: 30)
  --run <id>         run id (register)
  --version <n>      version number (promote)
  --stage <stage>    stage (promote; default production)
  --register         register the trained model (train)
  --json             print JSON instead of text

Storage follows MODELREG_DIR (default ./.modelreg), MODELREG_METADATA_URL and MODELREG_ARTIFACTS_URL.`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      data: { type: 'string' },
      target: { type: 'string', default: 'target' },
      name: { type: 'string', default: 'energy_load' },
      model: { type: 'string' },
      type: { type: 'string', default: 'random-forest' },
      trees: { type: 'string', default: '30' },
      run: { type: 'string' },
      version: { type: 'string' },
      stage: { type: 'string', default: 'production' },
      register: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const command = positionals[0] ?? 'quickstart';
  if (values.help || !Object.hasOwn(commands, command)) {
    console.log(usage);
    return values.help ? 0 : 2;
  }
  const { registry, describe } = await openRegistryFromEnv();
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

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (isRegistryError(error)) console.error(`error ${error.code}: ${error.message}`);
    else console.error(error);
    process.exit(1);
  },
);
