export {
  exportTreeEnsembleToOnnx,
  exportTreeEnsembleToOnnxAsync,
  exportsTreeEnsembleOperator,
  ONNX_EXPORT_IR_VERSION,
  ONNX_EXPORT_OPSETS,
  ONNX_TREE_ENSEMBLE_IR_VERSION,
  ONNX_TREE_ENSEMBLE_OPSETS,
  treeEnsembleExportVersions,
} from './export-tree-ensemble.js';
export type { ExportTreeEnsembleOptions } from './export-tree-ensemble.js';
export { exportLinearToOnnx } from './export-linear.js';
export type { ExportLinearOptions } from './export-linear.js';
export { inspectOnnxModel, looksLikeFileReference } from './inspect.js';
export type { OnnxElemType, OnnxModelInfo, OnnxValueSummary } from './inspect.js';
export { createOnnxPredictor, onnxPredictorOptionsSchema } from './session.js';
export type {
  OnnxClassification,
  OnnxOutputData,
  OnnxOutputs,
  OnnxPredictor,
  OnnxPredictorOptions,
  OnnxRunPath,
} from './session.js';
