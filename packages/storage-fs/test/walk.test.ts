import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBounded } from '../src/bounded-queue.js';
import type { QueuedTask } from '../src/bounded-queue.js';
import { createFsArtifactStore } from '../src/index.js';

const bases: string[] = [];
afterAll(() => Promise.all(bases.map((b) => rm(b, { recursive: true, force: true }))));

describe('runBounded', () => {
  it('runs every task, including the ones tasks add, never more than the limit at once', async () => {
    let running = 0;
    let peak = 0;
    const ran: string[] = [];
    const task =
      (name: string, depth: number): QueuedTask =>
      async (add) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        ran.push(name);
        if (depth < 3) for (let i = 0; i < 5; i++) add(task(`${name}.${i}`, depth + 1));
        running -= 1;
      };
    await runBounded(4, task('r', 0));
    expect(ran).toHaveLength(1 + 5 + 25 + 125);
    expect(new Set(ran).size).toBe(ran.length);
    expect(peak).toBe(4);
  });

  it('rejects with the first failure and starts no queued task after it', async () => {
    const started: number[] = [];
    const failing: QueuedTask = async (add) => {
      for (let i = 0; i < 10; i++)
        add(async () => {
          started.push(i);
          await new Promise((resolve) => setImmediate(resolve));
          if (i === 1) throw new Error('boom');
        });
    };
    await expect(runBounded(2, failing)).rejects.toThrow('boom');
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toEqual([0, 1, 2]);
  });
});

describe('fs artifact store list over a large tree', () => {
  it('lists every object of a wide and deep tree, in key order, and only those under the prefix', async () => {
    const base = await mkdtemp(path.join(tmpdir(), 'modelreg-fs-walk-'));
    bases.push(base);
    const root = path.join(base, 'artifacts');
    const keys: string[] = [];
    // 40 folders of 12 files each, plus one chain 30 folders deep.
    for (let d = 0; d < 40; d++) {
      const dir = path.join(root, 'wide', `d${String(d).padStart(2, '0')}`);
      await mkdir(dir, { recursive: true });
      for (let f = 0; f < 12; f++) {
        await writeFile(path.join(dir, `f${String(f).padStart(2, '0')}`), `${d}/${f}`);
        keys.push(`wide/d${String(d).padStart(2, '0')}/f${String(f).padStart(2, '0')}`);
      }
    }
    const chain = Array.from({ length: 30 }, (_, i) => `n${String(i).padStart(2, '0')}`).join('/');
    await mkdir(path.join(root, 'deep', chain), { recursive: true });
    await writeFile(path.join(root, 'deep', chain, 'leaf'), 'leaf');
    await writeFile(path.join(root, 'deep', 'n00', 'top'), 'top');
    const deepKeys = [`deep/${chain}/leaf`, 'deep/n00/top'];

    const store = createFsArtifactStore({ root });
    const all = await store.list('');
    expect(all.map((i) => i.key)).toEqual([...deepKeys, ...keys].sort());
    expect(all.find((i) => i.key === 'wide/d07/f03')?.size).toBe('7/3'.length);
    expect((await store.list('wide/d1')).map((i) => i.key)).toEqual(
      keys.filter((k) => k.startsWith('wide/d1')),
    );
    expect((await store.list('deep/')).map((i) => i.key)).toEqual(deepKeys.sort());
  });
});
