export { describeMetadataStoreConformance } from './metadata-conformance.js';
export type { MetadataConformanceOptions } from './metadata-conformance.js';
export { describeArtifactStoreConformance } from './artifact-conformance.js';
export type { ArtifactConformanceOptions } from './artifact-conformance.js';
