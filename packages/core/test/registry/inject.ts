import { createHash } from 'node:crypto';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { ArtifactStore } from '../../src/stores/artifact-store.js';
import type { MetadataStore } from '../../src/stores/metadata-store.js';
import { fakeClock, snapshot } from './helpers.js';

/** One store call of an operation: which store, which method, and which call of that method (1-based). */
export interface Step {
  store: string;
  method: string;
  nth: number;
}

/** Background event reads run on their own schedule; they are neither counted nor failed. */
const untracked = new Set(['readEvents', 'lastEventSeq', 'subscribe', 'init', 'close', 'name']);

/**
 * Records the store calls of an armed window, and can throw at one chosen call: a store that
 * "fails at the Nth call of a given method", as a lost connection or a full disk would.
 */
export class Injector {
  private armed = false;
  private counts = new Map<string, number>();
  readonly steps: Step[] = [];
  constructor(private readonly failAt?: Step) {}

  wrap<S extends object>(label: string, store: S): S {
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function' || typeof prop !== 'string' || untracked.has(prop)) {
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
        return (...args: unknown[]) => {
          if (this.armed) {
            const id = `${label}.${prop}`;
            const nth = (this.counts.get(id) ?? 0) + 1;
            this.counts.set(id, nth);
            this.steps.push({ store: label, method: prop, nth });
            const f = this.failAt;
            if (f && f.store === label && f.method === prop && f.nth === nth) {
              return Promise.reject(new Error(`injected failure at ${label}.${prop} #${nth}`));
            }
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }

  /** Counts (and fails) only inside `fn`, so setup and snapshots are not part of the operation. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.armed = true;
    try {
      return await fn();
    } finally {
      this.armed = false;
    }
  }
}

/** A memory registry whose stores go through `injector` (under `label.metadata` / `label.artifacts`). */
export async function openInjectable(injector: Injector, label: string): Promise<ModelRegistry> {
  const metadata: MetadataStore = injector.wrap(`${label}.metadata`, createMemoryMetadataStore());
  const artifacts: ArtifactStore = injector.wrap(`${label}.artifacts`, createMemoryArtifactStore());
  return ModelRegistry.open({ metadata, artifacts, now: fakeClock(), actor: 'tester' });
}

/**
 * Everything a user can observe through metadata, plus the bytes of every referenced file: the
 * full snapshot without unreferenced artifact files (which a failure may leave for gc).
 */
export async function registryState(registry: ModelRegistry): Promise<unknown> {
  const { keys: _keys, ...meta } = (await snapshot(registry)) as { keys: string[] };
  const { metadata, artifacts } = registry.stores;
  const referenced: Record<string, string | null> = {};
  for (const key of (await metadata.listReferencedKeys()).sort()) {
    const bytes = await artifacts.get(key);
    referenced[key] = bytes ? createHash('sha256').update(bytes).digest('hex') : null;
  }
  const events = await metadata.readEvents(0, 10_000);
  return { ...meta, referenced, events };
}
