import type { MetadataStore } from '../../stores/metadata-store.js';

export type { MetadataInspector, StoredFile, StoredModel, StoredVersion } from '../../stores/inspector.js';
import type { MetadataInspector } from '../../stores/inspector.js';

export interface MetadataConformanceOptions {
  /** Shown in the suite's title, e.g. `meta-sqlite`. */
  name: string;
  /** Builds a fresh, empty, not yet initialized store. Called once per test. */
  create: () => Promise<MetadataStore> | MetadataStore;
  /** Cleans up after a test, once the store is closed (drop a schema, delete a file). */
  destroy?: (store: MetadataStore) => Promise<void>;
  /** Gives the suite a backdoor into what a store really stored. */
  inspect?: (store: MetadataStore) => MetadataInspector;
  /** Adapter-specific tests; `create` returns a fresh initialized store that the suite closes after the test. */
  additionalTests?: (ctx: { create: () => Promise<MetadataStore> }) => void;
}

/** What each group of tests gets: the current test's store, and its inspector when there is one. */
export interface SuiteContext {
  /** The fresh, initialized store of the running test. */
  store(): MetadataStore;
  /** The inspector of the running test's store; only call it in tests guarded by `hasInspector`. */
  inspector(): MetadataInspector;
  hasInspector: boolean;
  /**
   * `it` for tests that need the inspector: registered only when the suite has one, so a store
   * without an `inspect` hook runs fewer cases instead of reporting skipped ones.
   */
  itWithInspector: (name: string, fn: () => Promise<void>) => void;
}
