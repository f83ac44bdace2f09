import { expect, it } from 'vitest';
import type { SuiteContext } from './context.js';
import { at, experiment, newRun } from './fixtures.js';

export function registryIdTests(ctx: SuiteContext): void {
  it('a new store has no registry id', async () => {
    expect(await ctx.store().getRegistryId()).toBeNull();
  });

  it('the first claimRegistryId records the id, later claims return it unchanged, and no event is written', async () => {
    const store = ctx.store();
    const first = 'a'.repeat(32);
    const second = 'b'.repeat(32);
    expect(await store.claimRegistryId(first)).toBe(first);
    expect(await store.claimRegistryId(second)).toBe(first);
    expect(await store.getRegistryId()).toBe(first);
    expect(await store.lastEventSeq()).toBe(0);
  });

  it('concurrent claims agree on one winner', async () => {
    const store = ctx.store();
    const ids = ['1', '2', '3', '4'].map((c) => c.repeat(32));
    const results = await Promise.all(ids.map((id) => store.claimRegistryId(id)));
    expect(new Set(results).size).toBe(1);
    expect(ids).toContain(results[0]);
    expect(await store.getRegistryId()).toBe(results[0]);
  });
}

export function runLeaseTests(ctx: SuiteContext): void {
  const seed = async () => {
    const store = ctx.store();
    await store.createExperiment(experiment(1));
    for (const n of [1, 2, 3, 4]) await store.createRun(newRun(n));
    await store.endRun('run-004', 'finished', at(5));
    return store;
  };

  it('heartbeatRuns updates running runs only and returns their ids', async () => {
    const store = await seed();
    expect(await store.heartbeatRuns(['run-001', 'run-004', 'run-999'], at(100))).toEqual(['run-001']);
    expect(await store.heartbeatRuns([], at(100))).toEqual([]);
  });

  it('expireRuns fails running runs whose last heartbeat, or start when they sent none, is before the cutoff', async () => {
    const store = await seed();
    await store.heartbeatRuns(['run-001'], at(50));
    const seq = await store.lastEventSeq();
    // run-002 (start 2) and run-003 (start 3) are stale; run-001 beat at 50; run-004 has ended.
    expect(await store.expireRuns({ heartbeatBefore: at(10), endTime: at(60) })).toEqual([
      'run-002',
      'run-003',
    ]);
    expect(await store.getRun('run-002')).toMatchObject({ status: 'failed', endTime: at(60) });
    expect(await store.getRun('run-003')).toMatchObject({ status: 'failed', endTime: at(60) });
    expect(await store.getRun('run-001')).toMatchObject({ status: 'running', endTime: null });
    expect(await store.getRun('run-004')).toMatchObject({ status: 'finished', endTime: at(5) });
    const events = await store.readEvents(seq, 10);
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['run.updated', { runId: 'run-002', status: 'failed' }],
      ['run.updated', { runId: 'run-003', status: 'failed' }],
    ]);
    expect(await store.expireRuns({ heartbeatBefore: at(10), endTime: at(61) })).toEqual([]);
  });

  it('expireRuns with dryRun returns the runs it would fail and changes nothing', async () => {
    const store = await seed();
    const seq = await store.lastEventSeq();
    expect(await store.expireRuns({ heartbeatBefore: at(3), endTime: at(60), dryRun: true })).toEqual([
      'run-001',
      'run-002',
    ]);
    expect(await store.getRun('run-001')).toMatchObject({ status: 'running' });
    expect(await store.lastEventSeq()).toBe(seq);
  });

  it('a heartbeat keeps a run from expiring; a run that ended is not heartbeated again', async () => {
    const store = await seed();
    expect(await store.heartbeatRuns(['run-002'], at(100))).toEqual(['run-002']);
    expect(await store.expireRuns({ heartbeatBefore: at(99), endTime: at(101) })).toEqual([
      'run-001',
      'run-003',
    ]);
    expect(await store.getRun('run-002')).toMatchObject({ status: 'running' });
    await store.endRun('run-002', 'killed', at(102));
    expect(await store.heartbeatRuns(['run-002'], at(103))).toEqual([]);
    expect(await store.getRun('run-002')).toMatchObject({ status: 'killed', endTime: at(102) });
  });
}
