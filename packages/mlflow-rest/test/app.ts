import express from 'express';
import request from 'supertest';
import { createMemoryArtifactStore, createMemoryMetadataStore, ModelRegistry } from '@modelreg/core';
import { createMlflowRouter } from '../src/index.js';

/** A memory registry behind the MLflow router, with `post` and `get` of `/api/2.0/mlflow/<rpc>`. */
export async function openMlflowApp(): Promise<{
  registry: ModelRegistry;
  app: express.Application;
  post: (rpc: string, body: Record<string, unknown>) => request.Test;
  get: (rpc: string, query: Record<string, string>) => request.Test;
}> {
  const registry = await ModelRegistry.open({
    metadata: createMemoryMetadataStore(),
    artifacts: createMemoryArtifactStore(),
  });
  const app = express().use(createMlflowRouter({ registry }));
  return {
    registry,
    app,
    post: (rpc, body) => request(app).post(`/api/2.0/mlflow/${rpc}`).send(body),
    get: (rpc, query) => request(app).get(`/api/2.0/mlflow/${rpc}`).query(query),
  };
}
