import { describe, expect, it } from 'vitest';
import { createMemoryArtifactStore } from '../src/index.js';
import { describeArtifactStoreConformance } from '../src/testing/artifact-conformance.js';

describeArtifactStoreConformance({
  name: 'memory',
  create: () => createMemoryArtifactStore(),
  additionalTests: ({ create }) => {
    it('stores do not share objects', async () => {
      const a = await create();
      const b = await create();
      await a.put('shared/key', 'a');
      expect(await b.get('shared/key')).toBeNull();
    });
  },
});

describe('createMemoryArtifactStore', () => {
  it('is named "memory"', () => {
    expect(createMemoryArtifactStore().name).toBe('memory');
  });
});
