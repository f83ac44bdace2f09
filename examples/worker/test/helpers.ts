import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ModelRegistry } from '@modelreg/core';

import { irisCsv } from '../../../test-utils/iris.js';

export { irisCsv, irisRows } from '../../../test-utils/iris.js';

/** Trains and registers the next version of `name` on iris; returns its number. */
export async function trainIris(
  registry: ModelRegistry,
  name: string,
  options: { forest?: boolean; stage?: string } = {},
): Promise<number> {
  const { version } = await registry.train({
    dataset: { csv: irisCsv },
    target: 'species',
    model: options.forest
      ? { type: 'random-forest', params: { nEstimators: 5, maxDepth: 4 } }
      : { type: 'decision-tree' },
    split: { seed: 1 },
    register: { name, ...(options.stage ? { stage: options.stage } : {}) },
  });
  return version!.version;
}

export const ndjson = (values: unknown[]): string => values.map((v) => `${JSON.stringify(v)}\n`).join('');

export const parseNdjson = <T = Record<string, unknown>>(text: string): T[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);

/** A spawned worker CLI: its stdout and stderr lines with arrival times, stdin, and its exit. */
export function spawnWorker(script: string, args: string[], env: Record<string, string>) {
  const proc = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stdout: Array<{ t: number; value: Record<string, unknown> }> = [];
  const stderr: Array<{ t: number; value: Record<string, unknown> | string }> = [];
  createInterface({ input: proc.stdout }).on('line', (line) =>
    stdout.push({ t: Date.now(), value: JSON.parse(line) as Record<string, unknown> }),
  );
  createInterface({ input: proc.stderr }).on('line', (line) => {
    let value: Record<string, unknown> | string = line;
    try {
      value = JSON.parse(line) as Record<string, unknown>;
    } catch {
      // not a log line (e.g. a Node warning)
    }
    stderr.push({ t: Date.now(), value });
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return { proc, stdout, stderr, exited };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
