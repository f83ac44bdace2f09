import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const run = promisify(execFile);

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
