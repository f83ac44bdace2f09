import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { Injector } from '../../../../test-utils/inject.js';
import { fakeClock } from './helpers.js';

export {
  Injector,
  describeStep,
  everyStep,
  registryState,
  trainRegisterScenario,
} from '../../../../test-utils/inject.js';
export type { Step } from '../../../../test-utils/inject.js';

/** A memory registry whose stores go through `injector` (as `label.metadata` / `label.artifacts`). */
export async function openInjectable(injector: Injector, label: string): Promise<ModelRegistry> {
  return ModelRegistry.open({
    metadata: injector.wrap(`${label}.metadata`, createMemoryMetadataStore()),
    artifacts: injector.wrap(`${label}.artifacts`, createMemoryArtifactStore()),
    now: fakeClock(),
    actor: 'tester',
  });
}
