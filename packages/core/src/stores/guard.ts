import { RegistryError, isRegistryError } from '../errors.js';
import type { ArtifactStore } from './artifact-store.js';
import type { MetadataStore } from './metadata-store.js';

function wrapError(storeName: string, method: string, error: unknown): RegistryError {
  if (isRegistryError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RegistryError('STORE_FAILURE', `${method} failed: ${message}`, {
    where: storeName,
    cause: error,
  });
}

/**
 * Wraps a store so that every method's unexpected throw becomes `STORE_FAILURE` naming the store and
 * method, `RegistryError`s pass through, and `init`/`close` run at most once each.
 */
function guard<T extends { readonly name: string; init(): Promise<void>; close(): Promise<void> }>(
  store: T,
): T {
  let initPromise: Promise<void> | undefined;
  let closePromise: Promise<void> | undefined;
  const storeName = store.name;
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const call = async (...args: unknown[]): Promise<unknown> => {
        try {
          return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        } catch (error) {
          throw wrapError(storeName, prop, error);
        }
      };
      if (prop === 'init') return () => (initPromise ??= call() as Promise<void>);
      if (prop === 'close') return () => (closePromise ??= call() as Promise<void>);
      return call;
    },
  });
}

export const guardMetadataStore = (store: MetadataStore): MetadataStore => guard(store);
export const guardArtifactStore = (store: ArtifactStore): ArtifactStore => guard(store);
