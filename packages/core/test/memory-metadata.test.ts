import { describe, expect, it } from 'vitest';
import {
  createMemoryMetadataStore,
  inspectMemoryMetadataStore,
} from '../src/memory/memory-metadata-store.js';
import { describeMetadataStoreConformance } from '../src/testing/metadata-conformance.js';
import { guardMetadataStore } from '../src/stores/guard.js';
import { isRegistryError } from '../src/errors.js';

describeMetadataStoreConformance({
  name: 'memory',
  create: () => createMemoryMetadataStore(),
  inspect: inspectMemoryMetadataStore,
  additionalTests: ({ create }) => {
    it('two memory stores share nothing', async () => {
      const a = await create();
      const b = await create();
      await a.createExperiment({ id: 'exp-001', name: 'shared', tags: {}, createdAt: 1 });
      expect(await b.getExperimentByName('shared')).toBeNull();
      expect(await b.lastEventSeq()).toBe(0);
    });
  },
});

describe('memory metadata store', () => {
  it('is named memory and its errors say where they happened', async () => {
    const store = createMemoryMetadataStore();
    expect(store.name).toBe('memory');
    const error = await store
      .createVersion({
        name: 'x',
        source: '',
        runId: null,
        files: [],
        description: '',
        tags: {},
        stage: 'none',
        createdAt: 1,
      })
      .catch((e: unknown) => e);
    expect(isRegistryError(error, 'NOT_FOUND')).toBe(true);
    expect((error as Error).message).toBe('[modelreg] [memory] model "x" does not exist');
  });

  it('names the missing version in the message', async () => {
    const store = createMemoryMetadataStore();
    await store.createModel({ name: 'x', description: '', tags: {}, createdAt: 1 });
    await expect(store.updateVersion('x', 7, { time: 2 })).rejects.toThrow('model "x" has no version 7');
  });

  it('works behind guardMetadataStore with RegistryErrors passing through', async () => {
    const store = guardMetadataStore(createMemoryMetadataStore());
    await store.init();
    await store.init();
    await expect(store.deleteModel('x', 1)).rejects.toMatchObject({ code: 'NOT_FOUND', where: 'memory' });
    await store.close();
  });

  it('the inspector refuses a store that is not a memory store', () => {
    const other = guardMetadataStore(createMemoryMetadataStore());
    expect(() => inspectMemoryMetadataStore(other)).toThrow('not a memory metadata store');
  });
});
