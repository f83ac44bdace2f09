// `@modelreg/core/formats`: what a stored model is made of — MODEL.json, the feature list, the native
// tree format and ONNX export/inspection. For tools that read or write model files themselves.
export type { Task, Label, NativeModel, NativeModelLoaders, ModelFitInfo } from './model.js';
export {
  modelManifestSchema,
  manifestFileSchema,
  modelSignatureSchema,
  signatureInputSchema,
  trainingInfoSchema,
  importanceSchema,
  coefficientsSchema,
  labelSchema,
  parseManifest,
  describeSignature,
} from './manifest.js';
export type {
  ModelManifest,
  ManifestFile,
  ModelSignature,
  SignatureInput,
  TrainingInfo,
  FeatureImportance,
  LinearCoefficients,
} from './manifest.js';
export {
  featureSpecSchema,
  MISSING_CATEGORY,
  isEmptyCell,
  selectFeatures,
  fitFeatureSpecs,
  encodeTable,
  idLikeReason,
} from './features.js';
export type { FeatureSpec, FeatureType, FeatureSelection, ExcludedColumn } from './features.js';
export type { FlatTree, TreeEnsemble, BoostedScores } from './tree-ensemble.js';
export { predictEnsemble, argmaxRows, leafWidth } from './tree-ensemble.js';
export { predictEnsembleFast, compileEnsemble, predictCompiled } from './native/fast-predict.js';
export type { CompiledEnsemble } from './native/fast-predict.js';
export {
  TREE_ENSEMBLE_KIND,
  createTreeEnsembleModel,
  isTreeEnsembleModel,
  nativeModelFileSchema,
  toNativeModelFile,
  loadNativeModel,
} from './native/native-model.js';
export type { TreeEnsembleModel, NativeModelFile } from './native/native-model.js';
export {
  treeEnsembleToJson,
  treeEnsembleFromJson,
  treeEnsembleJsonSchema,
  treeEnsembleJsonV1Schema,
  treeEnsembleJsonV2Schema,
  treeEnsembleJsonV3Schema,
  TREE_ENSEMBLE_JSON_VERSION,
} from './native/tree-ensemble-json.js';
export type { TreeEnsembleJson, TreeEnsembleJsonOptions } from './native/tree-ensemble-json.js';
export {
  LINEAR_KIND,
  createLinearModel,
  isLinearModel,
  linearModelJsonSchema,
  designMatrix,
  designWidth,
} from './linear.js';
export type { LinearModel, LinearModelJson, LinearInput } from './linear.js';
export * from './onnx/index.js';
