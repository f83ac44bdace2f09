// The train worker and its forest workers lower their own scheduling priority (nice 10, Linux only),
// never the host's threads. Observed from /proc/self/task/<tid>/stat (field 19 is the nice value).
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { TRAINING_NICE } from '../../src/training/native/thread-priority.js';
import { openMemoryRegistry } from './helpers.js';

/** The nice value of every thread of this process, by thread id. */
function threadNices(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (in parentheses, which may hold spaces): state is field 3.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, Number(fields[19 - 3]));
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

describe.runIf(process.platform === 'linux')('training threads run at a lower priority', () => {
  it('the train worker and the forest workers are at nice 10 while fitting; the host thread is not', async () => {
    const registry = await openMemoryRegistry();
    const hostNice = getPriority(0);
    const before = threadNices();
    const rows = Array.from({ length: 4000 }, (_, r) => ({
      a: (r * 7919) % 1000,
      b: (r * 104729) % 997,
      y: ((r * 7919) % 1000) / 10 + ((r * 104729) % 997) / 20,
    }));
    let lowered: number[] = [];
    await registry.train({
      dataset: { rows },
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 8, maxDepth: 8, workers: 2 } },
      formats: ['native'],
      onProgress: (p) => {
        if (p.phase !== 'fitting' || p.fraction <= 0 || lowered.length > 0) return;
        lowered = [...threadNices()]
          .filter(([tid, nice]) => !before.has(tid) && nice === TRAINING_NICE)
          .map(([, nice]) => nice);
      },
    });
    // The train worker and at least one forest worker: new threads at the training priority.
    expect(lowered.length).toBeGreaterThanOrEqual(2);
    expect(getPriority(0)).toBe(hostNice);
    expect(threadNices().get(String(process.pid))).toBe(hostNice);
    await registry.close();
  }, 60_000);
});
