/** One endpoint the router serves: the HTTP method and path, and the proto message (RPC) it implements. */
export interface MlflowOperation {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';
  /** The path under `/api/2.0` (the tracking and registry ones are also under `/ajax-api/2.0`). */
  path: string;
  /** The request message in MLflow's protos. */
  message: string;
  proto: 'service.proto' | 'model_registry.proto' | 'mlflow_artifacts.proto';
}

const tracking = (method: MlflowOperation['method'], path: string, message: string): MlflowOperation => ({
  method,
  path: `/mlflow/${path}`,
  message,
  proto: 'service.proto',
});
const registry = (method: MlflowOperation['method'], path: string, message: string): MlflowOperation => ({
  method,
  path: `/mlflow/${path}`,
  message,
  proto: 'model_registry.proto',
});
const artifacts = (method: MlflowOperation['method'], path: string, message: string): MlflowOperation => ({
  method,
  path: `/mlflow-artifacts/${path}`,
  message,
  proto: 'mlflow_artifacts.proto',
});

/** Every operation of the router, for API documents (the router's own test checks each is served). */
export const mlflowOperations: readonly MlflowOperation[] = [
  tracking('POST', 'experiments/create', 'CreateExperiment'),
  tracking('GET', 'experiments/get', 'GetExperiment'),
  tracking('GET', 'experiments/get-by-name', 'GetExperimentByName'),
  tracking('GET', 'experiments/search', 'SearchExperiments'),
  tracking('POST', 'experiments/search', 'SearchExperiments'),
  // ListExperiments is in the service.proto of MLflow 1.x (removed in 2.0); older clients still call it.
  tracking('GET', 'experiments/list', 'ListExperiments'),
  tracking('POST', 'experiments/update', 'UpdateExperiment'),
  tracking('POST', 'experiments/delete', 'DeleteExperiment'),
  tracking('POST', 'experiments/restore', 'RestoreExperiment'),
  tracking('POST', 'experiments/set-experiment-tag', 'SetExperimentTag'),
  tracking('POST', 'experiments/delete-experiment-tag', 'DeleteExperimentTag'),
  tracking('POST', 'runs/create', 'CreateRun'),
  tracking('GET', 'runs/get', 'GetRun'),
  tracking('POST', 'runs/update', 'UpdateRun'),
  tracking('POST', 'runs/delete', 'DeleteRun'),
  tracking('POST', 'runs/restore', 'RestoreRun'),
  tracking('POST', 'runs/log-metric', 'LogMetric'),
  tracking('POST', 'runs/log-parameter', 'LogParam'),
  tracking('POST', 'runs/log-batch', 'LogBatch'),
  tracking('POST', 'runs/log-model', 'LogModel'),
  tracking('POST', 'runs/log-inputs', 'LogInputs'),
  tracking('POST', 'runs/set-tag', 'SetTag'),
  tracking('POST', 'runs/delete-tag', 'DeleteTag'),
  tracking('POST', 'runs/search', 'SearchRuns'),
  tracking('GET', 'metrics/get-history', 'GetMetricHistory'),
  tracking('GET', 'artifacts/list', 'ListArtifacts'),
  registry('POST', 'registered-models/create', 'CreateRegisteredModel'),
  registry('GET', 'registered-models/get', 'GetRegisteredModel'),
  registry('POST', 'registered-models/rename', 'RenameRegisteredModel'),
  registry('PATCH', 'registered-models/update', 'UpdateRegisteredModel'),
  registry('DELETE', 'registered-models/delete', 'DeleteRegisteredModel'),
  registry('GET', 'registered-models/search', 'SearchRegisteredModels'),
  registry('GET', 'registered-models/get-latest-versions', 'GetLatestVersions'),
  registry('POST', 'registered-models/get-latest-versions', 'GetLatestVersions'),
  registry('POST', 'registered-models/set-tag', 'SetRegisteredModelTag'),
  registry('DELETE', 'registered-models/delete-tag', 'DeleteRegisteredModelTag'),
  registry('POST', 'registered-models/alias', 'SetRegisteredModelAlias'),
  registry('DELETE', 'registered-models/alias', 'DeleteRegisteredModelAlias'),
  registry('GET', 'registered-models/alias', 'GetModelVersionByAlias'),
  registry('POST', 'model-versions/create', 'CreateModelVersion'),
  registry('GET', 'model-versions/get', 'GetModelVersion'),
  registry('PATCH', 'model-versions/update', 'UpdateModelVersion'),
  registry('DELETE', 'model-versions/delete', 'DeleteModelVersion'),
  registry('GET', 'model-versions/search', 'SearchModelVersions'),
  registry('POST', 'model-versions/transition-stage', 'TransitionModelVersionStage'),
  registry('GET', 'model-versions/get-download-uri', 'GetModelVersionDownloadUri'),
  registry('POST', 'model-versions/set-tag', 'SetModelVersionTag'),
  registry('DELETE', 'model-versions/delete-tag', 'DeleteModelVersionTag'),
  artifacts('GET', 'artifacts', 'ListArtifacts'),
  artifacts('GET', 'artifacts/{path}', 'DownloadArtifact'),
  artifacts('PUT', 'artifacts/{path}', 'UploadArtifact'),
];
