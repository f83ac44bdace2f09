import { expect, it } from 'vitest';
import type { DeploymentChange, DeploymentSpec } from '../../domain/deployments.js';
import type { SuiteContext } from './context.js';
import { at, eventsAfter, expectCode, seedModel } from './fixtures.js';

const spec = (overrides: Partial<DeploymentSpec> = {}): DeploymentSpec => ({
  model: 'iris',
  current: 'production',
  next: 2,
  weight: 0.1,
  stickyKey: null,
  mode: 'canary',
  ...overrides,
});

const change = (overrides: Partial<DeploymentChange> = {}, deployment: Partial<DeploymentSpec> = {}) => ({
  deployment: spec(deployment),
  action: 'set' as const,
  actor: 'alice',
  comment: '',
  time: at(500),
  ...overrides,
});

export function deploymentTests(ctx: SuiteContext): void {
  it('saveDeployment stores every field, starts at revision 1 and reads back the same', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    const saved = await store.saveDeployment(
      change({ ifRevision: null }, { current: '@champion', stickyKey: 'user_id', mode: 'shadow' }),
    );
    const expected = {
      model: 'iris',
      current: '@champion',
      next: 2,
      weight: 0.1,
      stickyKey: 'user_id',
      mode: 'shadow',
      revision: 1,
      createdAt: at(500),
      updatedAt: at(500),
      updatedBy: 'alice',
    };
    expect(saved).toEqual(expected);
    expect(await store.getDeployment('iris')).toEqual(expected);
    expect(await store.getDeployment('other')).toBeNull();
  });

  it('a version number and a numeric-looking stage name stay apart', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 3);
    await store.saveDeployment(change({}, { current: 3, next: 'latest' }));
    const read = await store.getDeployment('iris');
    expect(read?.current).toBe(3);
    expect(read?.next).toBe('latest');
  });

  it('each change increments the revision, keeps createdAt and records who and when', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.saveDeployment(change());
    const second = await store.saveDeployment(
      change({ action: 'weight', ifRevision: 1, actor: 'bob', time: at(600) }, { weight: 0.5 }),
    );
    expect(second).toMatchObject({ revision: 2, weight: 0.5, createdAt: at(500), updatedAt: at(600) });
    expect(second.updatedBy).toBe('bob');
  });

  it('a stale or unexpected revision is CONFLICT and writes nothing', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.saveDeployment(change());
    await store.saveDeployment(change({ action: 'weight' }, { weight: 0.2 }));
    const seq = await store.lastEventSeq();
    await expectCode(
      store.saveDeployment(change({ action: 'promote', ifRevision: 1 }, { weight: 0 })),
      'CONFLICT',
    );
    await expectCode(store.saveDeployment(change({ ifRevision: null })), 'CONFLICT');
    await expectCode(
      store.deleteDeployment({ model: 'iris', ifRevision: 1, actor: 'a', comment: '', time: at(700) }),
      'CONFLICT',
    );
    expect(await store.getDeployment('iris')).toMatchObject({ revision: 2, weight: 0.2 });
    expect(await store.lastEventSeq()).toBe(seq);
    expect(await store.getDeploymentHistory('iris')).toHaveLength(2);
    await expectCode(store.saveDeployment(change({ ifRevision: 5 }, { model: 'nothing' })), 'CONFLICT');
    expect(await store.getDeployment('nothing')).toBeNull();
  });

  it('of concurrent changes from one revision, exactly one wins', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.saveDeployment(change());
    const outcomes = await Promise.allSettled(
      [0, 0.2, 0.4, 0.6].map((weight) =>
        store.saveDeployment(change({ action: 'promote', ifRevision: 1 }, { weight })),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) {
      if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'CONFLICT' });
    }
    expect(await store.getDeployment('iris')).toMatchObject({ revision: 2 });
  });

  it('each change appends its event in the same transaction', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    const seq = await store.lastEventSeq();
    await store.saveDeployment(change());
    await store.saveDeployment(change({ action: 'rollback', ifRevision: 1 }, { weight: 0 }));
    await store.deleteDeployment({
      model: 'iris',
      ifRevision: 2,
      actor: 'bob',
      comment: 'done',
      time: at(800),
    });
    expect(await eventsAfter(store, seq)).toEqual([
      { type: 'deployment.updated', payload: { model: 'iris', revision: 1, action: 'set' } },
      { type: 'deployment.updated', payload: { model: 'iris', revision: 2, action: 'rollback' } },
      { type: 'deployment.deleted', payload: { model: 'iris', revision: 3 } },
    ]);
  });

  it('delete hides the deployment, is NOT_FOUND twice, and revisions continue after a new set', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await store.saveDeployment(change());
    await store.deleteDeployment({ model: 'iris', actor: 'bob', comment: 'done', time: at(800) });
    expect(await store.getDeployment('iris')).toBeNull();
    expect(await store.listDeployments()).toEqual([]);
    await expectCode(
      store.deleteDeployment({ model: 'iris', actor: 'bob', comment: '', time: at(801) }),
      'NOT_FOUND',
    );
    const again = await store.saveDeployment(change({ ifRevision: null, time: at(900) }));
    expect(again).toMatchObject({ revision: 3, createdAt: at(900) });
  });

  it('listDeployments returns the live ones sorted by model', async () => {
    const store = ctx.store();
    for (const name of ['b_model', 'a_model', 'c_model']) {
      await seedModel(store, name, 2);
      await store.saveDeployment(change({}, { model: name }));
    }
    await store.deleteDeployment({ model: 'c_model', actor: 'a', comment: '', time: at(900) });
    expect((await store.listDeployments()).map((d) => d.model)).toEqual(['a_model', 'b_model']);
  });

  it('the history is append-only, oldest first, with the state after each change', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    await seedModel(store, 'other', 2);
    await store.saveDeployment(change({ comment: 'start' }));
    await store.saveDeployment(change({}, { model: 'other' }));
    await store.saveDeployment(change({ action: 'promote', actor: 'bob', time: at(600) }, { weight: 0 }));
    await store.deleteDeployment({ model: 'iris', actor: 'carol', comment: 'bye', time: at(700) });
    const history = await store.getDeploymentHistory('iris');
    expect(history.map(({ id: _id, ...rest }) => rest)).toEqual([
      { ...spec(), action: 'set', revision: 1, actor: 'alice', comment: 'start', time: at(500) },
      { ...spec({ weight: 0 }), action: 'promote', revision: 2, actor: 'bob', comment: '', time: at(600) },
      {
        ...spec({ weight: 0 }),
        action: 'delete',
        revision: 3,
        actor: 'carol',
        comment: 'bye',
        time: at(700),
      },
    ]);
    const ids = history.map((h) => h.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(await store.getDeploymentHistory('nobody')).toEqual([]);
  });

  it('returned deployments are copies', async () => {
    const store = ctx.store();
    await seedModel(store, 'iris', 2);
    const saved = await store.saveDeployment(change());
    saved.weight = 0.9;
    const read = await store.getDeployment('iris');
    read!.weight = 0.8;
    expect((await store.getDeployment('iris'))?.weight).toBe(0.1);
  });
}
