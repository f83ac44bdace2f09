import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openRegistryFromEnv } from '@modelreg/example-config';
import { beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);
const sample = fileURLToPath(new URL('../data/energy_load.csv', import.meta.url));

/** Runs the built CLI against a registry folder; resolves with stdout, or rejects with the exit code and stderr. */
async function modelreg(dir: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [cli, ...args], {
    env: { ...process.env, MODELREG_DIR: dir },
  });
  return stdout;
}

describe('the example script (built CLI, embedded SQLite + files)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelreg-script-'));
  });

  it('quickstart uploads, trains, registers, promotes, predicts and prints what it did', async () => {
    const out = await modelreg(dir, 'quickstart', '--trees', '10');
    expect(out).toMatch(/dataset\s+energy_load v1 \(new\): 1500 rows/);
    expect(out).toMatch(/metrics\s+r2=0\.\d+/);
    expect(out).toMatch(/promote\s+energy_load v1 -> production/);
    expect(out).toMatch(/predict\s+models:\/energy_load\/production -> energy_load v1/);
    expect(out.match(/row \d: predicted/g)).toHaveLength(5);
  });

  it('a second quickstart reuses the dataset version and archives the previous production version', async () => {
    const out = await modelreg(dir, 'quickstart', '--trees', '10');
    expect(out).toMatch(/dataset\s+energy_load v1 \(unchanged\)/);
    expect(out).toMatch(/promote\s+energy_load v2 -> production/);
    const list = JSON.parse(await modelreg(dir, 'list', '--json')) as {
      models: { versions: { version: number; stage: string }[] }[];
    };
    expect(list.models[0]!.versions.map((v) => [v.version, v.stage])).toEqual([
      [1, 'archived'],
      [2, 'production'],
    ]);
  });

  it('train, register, promote and predict work as separate commands', async () => {
    const trained = JSON.parse(await modelreg(dir, 'train', '--type', 'decision-tree', '--json')) as {
      runId: string;
      version: null;
    };
    expect(trained.version).toBeNull();
    const version = JSON.parse(await modelreg(dir, 'register', '--run', trained.runId, '--json')) as {
      version: number;
    };
    expect(version.version).toBe(3);
    await modelreg(dir, 'promote', '--version', '3', '--stage', 'staging');
    const predicted = JSON.parse(
      await modelreg(dir, 'predict', '--model', 'models:/energy_load/staging', '--json'),
    ) as {
      version: number;
      predictions: number[];
    };
    expect(predicted.version).toBe(3);
    expect(predicted.predictions).toHaveLength(10);
    expect(await modelreg(dir, 'list')).toMatch(
      /model\s+energy_load: v1\[archived\] v2\[production\] v3\[staging\]/,
    );
  });

  it('bad input exits with the RegistryError code and message', async () => {
    await expect(modelreg(dir, 'promote', '--version', 'x')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'error INVALID_ARGUMENT: [modelreg] [cli] --version must be a positive integer',
      ),
    });
    await expect(modelreg(dir, 'train', '--target', 'nope')).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining('target "nope" is not a column'),
    });
    await expect(modelreg(dir, 'frobnicate')).rejects.toMatchObject({ code: 2 });
  });
});

// Each test runs the built CLI several times; on a loaded machine that takes a while.
describe('the CLI (issue 14)', { timeout: 180_000 }, () => {
  let dir: string;
  let csv25: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'modelreg-script-14-'));
    await modelreg(dir, 'quickstart', '--trees', '5');
    // 25 rows of the sample without the target column: what a user predicts.
    const [header, ...lines] = readFileSync(sample, 'utf8').trim().split('\n');
    const columns = header!.split(',');
    const keep = columns.map((c, i) => (c === 'target' ? -1 : i)).filter((i) => i >= 0);
    const pick = (line: string) => {
      const cells = line.split(',');
      return keep.map((i) => cells[i]).join(',');
    };
    csv25 = join(dir, 'new-days.csv');
    writeFileSync(csv25, [pick(header!), ...lines.slice(0, 25).map(pick)].join('\n') + '\n');
  }, 180_000);

  it('predict on a 25-row CSV returns 25 predictions and leaves the catalog unchanged', async () => {
    const before = JSON.parse(await modelreg(dir, 'list', '--json')) as unknown;
    const predicted = JSON.parse(await modelreg(dir, 'predict', '--data', csv25, '--json')) as {
      predictions: number[];
    };
    expect(predicted.predictions).toHaveLength(25);
    expect(predicted.predictions.every((p) => typeof p === 'number')).toBe(true);
    expect(JSON.parse(await modelreg(dir, 'list', '--json'))).toEqual(before);

    const text = await modelreg(dir, 'predict', '--data', csv25);
    expect(text.match(/row \d+: predicted/g)).toHaveLength(25);
    expect(text).not.toContain('actual');
    const withTarget = await modelreg(dir, 'predict', '--data', sample);
    expect(withTarget.match(/row \d+: predicted /g)).toHaveLength(1500);
    expect(withTarget.match(/, actual /g)).toHaveLength(1500);
  });

  it('an unknown flag or command is one line, the usage and exit code 2, without a stack trace', async () => {
    for (const args of [['predict', '--modle', 'x'], ['frobnicate'], ['list', 'extra']]) {
      const failed = await modelreg(dir, ...args).then(
        () => {
          throw new Error(`${args.join(' ')} succeeded`);
        },
        (e: { code: number; stderr: string }) => e,
      );
      expect(failed.code).toBe(2);
      const [first, ...rest] = failed.stderr.split('\n');
      expect(first).toMatch(
        /^error: (Unknown option '--modle'|unknown command "frobnicate"|unexpected argument "extra")/,
      );
      expect(rest.join('\n')).toContain('Usage:');
      expect(failed.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--experiment names the experiment of the training run', async () => {
    const trained = JSON.parse(
      await modelreg(dir, 'train', '--experiment', 'nightly', '--trees', '3', '--json'),
    ) as { runId: string };
    const { registry } = await openRegistryFromEnv({ MODELREG_DIR: dir });
    try {
      const run = await registry.getRun(trained.runId);
      const experiments = await registry.listExperiments();
      expect(experiments.find((e) => e.id === run?.experimentId)?.name).toBe('nightly');
    } finally {
      await registry.close();
    }
  });
});
