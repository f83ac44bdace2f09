export { fitForest, fitTree } from './forest.js';
export type { FitForestInput, FitNativeTreeInput } from './forest.js';
export { nativeTreeParamsSchema, maxFeaturesSchema, resolveMaxFeatures } from './params.js';
export type { NativeTreeParams, ResolvedNativeTreeParams, MaxFeatures } from './params.js';
export { binFeatures, MAX_BINS } from './binning.js';
export type { BinnedFeatures, BinningOptions } from './binning.js';
