import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { RegistryErrorCode } from '../../src/errors.js';
import type { Principal } from '../../src/domain/identity.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import { hashToken } from '../../src/registry/auth.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

const irisCsv = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));
const ROW = { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 };

async function expectCode(call: () => Promise<unknown> | unknown, code: RegistryErrorCode): Promise<void> {
  let error: unknown = null;
  try {
    await call();
  } catch (e) {
    error = e;
  }
  const shown = isRegistryError(error) ? `${error.code}: ${error.message}` : String(error);
  expect(isRegistryError(error, code), `expected ${code}, got ${shown}`).toBe(true);
}

let registry: ModelRegistry;

beforeEach(async () => {
  registry = await openMemoryRegistry();
  await registry.datasets.upload('iris.csv', irisCsv);
  for (const name of ['iris', 'iris_b']) {
    await registry.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: { type: 'decision-tree' },
      register: { name },
    });
  }
});

afterEach(async () => {
  await registry.close();
});

const principal = (role: Principal['role'], models: string[] | null = null): Principal => ({
  name: `${role}@example.com`,
  role,
  models,
  tokenId: null,
});

describe('tokens', () => {
  it('createToken returns an mr_ secret of 256 bits once; only its sha256 is stored', async () => {
    const created = await registry.auth.createToken({ name: 'ci', role: 'editor', models: ['iris'] });
    expect(created.token).toMatch(/^mr_[A-Za-z0-9_-]{43}$/);
    expect(created).toMatchObject({ name: 'ci', role: 'editor', models: ['iris'] });
    const listed = await registry.auth.listTokens();
    expect(listed).toEqual([
      {
        id: created.id,
        name: 'ci',
        role: 'editor',
        models: ['iris'],
        createdAt: created.createdAt,
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    const stored = await registry.stores.metadata.findTokenByHash(hashToken(created.token));
    expect(stored?.id).toBe(created.id);
  });

  it('authenticate gives the principal of a live token, records lastUsedAt, and null for anything else', async () => {
    const { token, id } = await registry.auth.createToken({ name: 'alice@example.com', role: 'reader' });
    expect(await registry.auth.authenticate(token)).toEqual({
      name: 'alice@example.com',
      role: 'reader',
      models: null,
      tokenId: id,
    });
    expect((await registry.stores.metadata.getToken(id))?.lastUsedAt).not.toBeNull();
    expect(
      await registry.auth.authenticate(`${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`),
    ).toBeNull();
    expect(await registry.auth.authenticate('')).toBeNull();
    expect(await registry.auth.authenticate(42)).toBeNull();
    expect(await registry.auth.authenticate('mr_short')).toBeNull();
  });

  it('a revoked token no longer authenticates; revoking twice changes nothing', async () => {
    const { token, id } = await registry.auth.createToken({ name: 'ci', role: 'editor' });
    const revoked = await registry.auth.revokeToken(id);
    expect(revoked.revokedAt).not.toBeNull();
    expect(await registry.auth.authenticate(token)).toBeNull();
    expect((await registry.auth.revokeToken(id)).revokedAt).toBe(revoked.revokedAt);
  });

  it('the bootstrap admin secret authenticates as admin; other secrets do not', async () => {
    const adminToken = 'a-long-random-bootstrap-secret-0123456789';
    expect(await registry.auth.authenticate(adminToken, { adminToken })).toEqual({
      name: 'admin',
      role: 'admin',
      models: null,
      tokenId: null,
    });
    expect(await registry.auth.authenticate(`${adminToken}x`, { adminToken })).toBeNull();
    expect(await registry.auth.authenticate(adminToken)).toBeNull();
  });
});

describe('registry.as(principal)', () => {
  it('a reader reads everything but changes nothing, and the registry is left as it was', async () => {
    const reader = registry.as(principal('reader'));
    expect((await reader.listModels()).map((m) => m.name)).toEqual(['iris', 'iris_b']);
    expect(await reader.getStageHistory('iris')).toEqual([]);
    await reader.readManifest('models:/iris/1');
    const before = await snapshot(registry);
    await expectCode(() => reader.transitionStage('iris', 1, 'staging'), 'PERMISSION_DENIED');
    await expectCode(() => reader.setAlias('iris', 'champion', 1), 'PERMISSION_DENIED');
    await expectCode(() => reader.startRun({ experiment: 'x' }), 'PERMISSION_DENIED');
    await expectCode(() => reader.datasets.upload('more.csv', 'a,b\n1,2\n'), 'PERMISSION_DENIED');
    await expectCode(() => reader.predict('models:/iris/1', [ROW]), 'PERMISSION_DENIED');
    await expectCode(() => reader.auth.createToken({ name: 'x', role: 'admin' }), 'PERMISSION_DENIED');
    expect(await snapshot(registry)).toEqual(before);
  });

  it('a predictor predicts but cannot move stages', async () => {
    const predictor = registry.as(principal('predictor'));
    expect(await predictor.predict('models:/iris/1', [ROW])).toHaveLength(1);
    await expectCode(() => predictor.transitionStage('iris', 1, 'staging'), 'PERMISSION_DENIED');
  });

  it('an editor logs runs, trains and moves stages, recorded as the principal; deletes and tokens need admin', async () => {
    const editor = registry.as(principal('editor'));
    const run = await editor.startRun({ experiment: 'e' });
    await run.logMetric('acc', 0.9);
    await run.end();
    await editor.transitionStage('iris', 1, 'staging');
    await editor.setAlias('iris', 'champion', 1);
    const history = await registry.getStageHistory('iris');
    expect(history.map((h) => h.actor)).toEqual(['editor@example.com', 'editor@example.com']);
    await expectCode(() => editor.deleteVersion('iris', 1), 'PERMISSION_DENIED');
    await expectCode(() => editor.deleteModel('iris'), 'PERMISSION_DENIED');
    await expectCode(() => editor.datasets.delete('iris'), 'PERMISSION_DENIED');
    await expectCode(() => editor.auth.createToken({ name: 'x', role: 'reader' }), 'PERMISSION_DENIED');
    await expectCode(() => editor.auth.listTokens(), 'PERMISSION_DENIED');
    await expectCode(() => editor.gc(), 'PERMISSION_DENIED');
  });

  it('an editor narrowed to one model moves it but not another, and cannot train into another', async () => {
    const editor = registry.as(principal('editor', ['iris']));
    await editor.transitionStage('iris', 1, 'production');
    const before = await snapshot(registry);
    await expectCode(() => editor.transitionStage('iris_b', 1, 'production'), 'PERMISSION_DENIED');
    await expectCode(() => editor.setAlias('iris_b', 'champion', 1), 'PERMISSION_DENIED');
    await expectCode(() => editor.updateModel('iris_b', { description: 'mine' }), 'PERMISSION_DENIED');
    await expectCode(
      () =>
        editor.train({
          experiment: 'iris',
          dataset: 'iris',
          target: 'species',
          model: { type: 'decision-tree' },
          register: { name: 'iris_b' },
        }),
      'PERMISSION_DENIED',
    );
    expect(await snapshot(registry)).toEqual(before);
  });

  it('a predictor narrowed to one model predicts with it only', async () => {
    const predictor = registry.as(principal('predictor', ['iris']));
    expect(await predictor.predict('models:/iris/1', [ROW])).toHaveLength(1);
    await expectCode(() => predictor.predict('models:/iris_b/1', [ROW]), 'PERMISSION_DENIED');
  });

  it('with a principal bound, a per-call actor is refused; without one it is recorded', async () => {
    const admin = registry.as(principal('admin'));
    await expectCode(
      () => admin.transitionStage('iris', 1, 'staging', { actor: 'ceo@company.example' }),
      'INVALID_ARGUMENT',
    );
    await expectCode(() => admin.setAlias('iris', 'a', 1, { actor: 'ceo' }), 'INVALID_ARGUMENT');
    expect(await registry.getStageHistory('iris')).toEqual([]);
    await registry.transitionStage('iris', 1, 'staging', { actor: 'host-job' });
    expect((await registry.getStageHistory('iris')).map((h) => h.actor)).toEqual(['host-job']);
  });

  it('an admin manages tokens through a view; a view cannot be re-bound and closing it closes nothing', async () => {
    const admin = registry.as(principal('admin'));
    const { id } = await admin.auth.createToken({ name: 'ci', role: 'reader' });
    expect((await admin.auth.listTokens()).map((t) => t.id)).toEqual([id]);
    await admin.deleteVersion('iris_b', 1);
    expect(() => admin.as(principal('reader'))).toThrow(/already acts as/);
    expect(admin.principal).toEqual(principal('admin'));
    expect(registry.principal).toBeNull();
    await admin.close();
    expect(await registry.listModels()).toHaveLength(2);
  });
});
