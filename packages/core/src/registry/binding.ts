import { randomUUID } from 'node:crypto';
import type { ArtifactStore } from '../stores/artifact-store.js';
import type { MetadataStore } from '../stores/metadata-store.js';

/** The artifact-store object that names the registry its bytes belong to. gc never deletes it. */
export const REGISTRY_ID_KEY = '.modelreg/registry-id';

/** Whether the two stores belong to one registry; when not, why (gc then deletes nothing). */
export type Binding = { bound: true; id: string } | { bound: false; reason: string };

const ID = /^[0-9a-f]{32}$/;

async function readMarker(artifacts: ArtifactStore): Promise<string | null> {
  const bytes = await artifacts.get(REGISTRY_ID_KEY);
  return bytes === null ? null : new TextDecoder().decode(bytes).trim();
}

/** Whether the artifact store holds anything besides the registry-id marker. */
async function holdsObjects(artifacts: ArtifactStore): Promise<boolean> {
  return (await artifacts.list('')).some((o) => o.key !== REGISTRY_ID_KEY);
}

/**
 * Checks, and on first use establishes, that `metadata` and `artifacts` belong to one registry:
 * both carry the same registry id (a row in the metadata store, the object {@link REGISTRY_ID_KEY}).
 *
 * - Neither has an id: a new registry (metadata with no events) over an artifact store that holds
 *   objects is refused — that is a wrong or truncated metadata store next to existing bytes. Otherwise
 *   (a new registry, or a registry made before binding existed: metadata with events) a new id is
 *   written to the artifacts first, then to the metadata.
 * - Only the artifacts have an id: the metadata adopts it when it has events (a pre-binding registry
 *   whose first binding was interrupted) or when the artifacts hold nothing else; otherwise refused.
 * - Only the metadata has an id: the artifacts adopt it when they hold no object; otherwise refused.
 * - Both have ids: bound when they are equal.
 *
 * Concurrent first opens converge: the first metadata claim wins and the losers rewrite the marker.
 */
export async function bindStores(metadata: MetadataStore, artifacts: ArtifactStore): Promise<Binding> {
  const metaId = await metadata.getRegistryId();
  const artId = await readMarker(artifacts);
  if (artId !== null && !ID.test(artId)) {
    return { bound: false, reason: `the artifact store's ${REGISTRY_ID_KEY} is not a registry id` };
  }
  if (metaId !== null && artId !== null) {
    return metaId === artId
      ? { bound: true, id: metaId }
      : {
          bound: false,
          reason: `the metadata store belongs to registry ${metaId} but the artifact store to registry ${artId}`,
        };
  }
  if (metaId !== null) {
    if (await holdsObjects(artifacts)) {
      return {
        bound: false,
        reason: `the metadata store belongs to registry ${metaId} but the artifact store holds objects and no registry id`,
      };
    }
    await artifacts.put(REGISTRY_ID_KEY, `${metaId}\n`);
    return { bound: true, id: metaId };
  }
  const metadataHasData = (await metadata.lastEventSeq()) > 0;
  if (!metadataHasData && (await holdsObjects(artifacts))) {
    return {
      bound: false,
      reason: artId
        ? `the metadata store is empty but the artifact store belongs to registry ${artId} and holds objects (a new, emptied or wrong metadata store?)`
        : 'the metadata store is empty but the artifact store holds objects (a new, emptied or wrong metadata store?)',
    };
  }
  const proposed = artId ?? randomUUID().replace(/-/g, '');
  if (artId === null) await artifacts.put(REGISTRY_ID_KEY, `${proposed}\n`);
  const claimed = await metadata.claimRegistryId(proposed);
  if (claimed !== proposed) await artifacts.put(REGISTRY_ID_KEY, `${claimed}\n`);
  return { bound: true, id: claimed };
}
