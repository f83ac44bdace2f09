import express, { Router } from 'express';
import type { Request, RequestHandler, Response } from 'express';
import type { ModelRegistry } from '@modelreg/core';
import { artifactListRoutes, proxiedArtifactRoutes } from './artifacts.js';
import type { RegistryOfRequest, RouteContext } from './context.js';
import type { MlflowError } from './errors.js';
import { mlflowErrorHandler, MlflowError as MlflowErrorClass } from './errors.js';
import { modelRegistryRoutes } from './model-registry.js';
import { trackingRoutes } from './tracking.js';

export interface MlflowRouterOptions {
  /** The registry served. */
  registry: ModelRegistry;
  /**
   * The identity layer: the registry a request acts through, usually `registry.as(principal)` for the
   * request's authenticated principal (roles and model grants then apply as in the native API). Throw
   * to refuse the request (an error with `status` 401/403 answers UNAUTHENTICATED/PERMISSION_DENIED).
   * Default: every request acts as `registry` itself (for a server open on loopback only).
   */
  auth?: RegistryOfRequest;
  /** Largest artifact a proxied upload may send, in bytes. Default 1 GiB. */
  artifactUploadBytes?: number;
  /** Largest JSON body, in bytes. Default 1 MiB. */
  jsonBytes?: number;
  /** Sees every error answered (the host logs the causes of 5xx answers there). */
  onError?: (error: MlflowError, cause: unknown) => void;
}

/**
 * MLflow's REST API over a modelreg registry, as an Express router to mount at the server's root:
 * `/api/2.0/mlflow/…` and the same under `/ajax-api/2.0/mlflow/…` (tracking and model registry,
 * service.proto and model_registry.proto), and `/api/2.0/mlflow-artifacts/…` (proxied artifacts,
 * mlflow_artifacts.proto). Errors answer `{ error_code, message }` with MLflow's statuses.
 */
export function createMlflowRouter(options: MlflowRouterOptions): Router {
  const { registry } = options;
  const ctx: RouteContext = {
    registryOf: options.auth ?? ((_req: Request, _res: Response) => registry),
    artifactUploadBytes: options.artifactUploadBytes ?? 1024 * 1024 * 1024,
  };
  const api = Router();
  api.use(express.json({ limit: options.jsonBytes ?? 1024 * 1024, strict: true }));
  api.use(trackingRoutes(ctx));
  api.use(artifactListRoutes(ctx));
  api.use(modelRegistryRoutes(ctx));

  const router = Router();
  const onError = mlflowErrorHandler(options.onError);
  const notFound: RequestHandler = (req, _res, next) => {
    next(
      new MlflowErrorClass(
        'ENDPOINT_NOT_FOUND',
        `No MLflow endpoint ${req.method} ${req.originalUrl.split('?')[0]}`,
      ),
    );
  };
  for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
    router.use(prefix, api, notFound, onError);
  }
  router.use('/api/2.0/mlflow-artifacts', proxiedArtifactRoutes(ctx), notFound, onError);
  return router;
}
