export { describeMetadataStoreConformance } from './metadata-conformance.js';
export type {
  MetadataConformanceOptions,
  MetadataInspector,
  StoredFile,
  StoredModel,
  StoredVersion,
} from './metadata-conformance.js';
export { describeArtifactStoreConformance } from './artifact-conformance.js';
export type { ArtifactConformanceOptions } from './artifact-conformance.js';
export { PROTOTYPE_NAMES } from './metadata/prototype-names.js';
