import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRequire } from 'node:module';
import type * as mlflowTypes from 'mlflow';
import type { TestBackend } from './helpers.js';
import { embeddedBackend, testApp } from './helpers.js';

// A third-party MLflow REST client (npm `mlflow` 2.0.7), written by nobody here. It is CommonJS whose
// module.exports is the client class (its types describe it as a default export).
const MLflow = createRequire(import.meta.url)('mlflow') as typeof mlflowTypes.default.default;

const ADMIN = 'mr_admin-token-for-the-mlflow-client-test-000000';

interface KV {
  key: string;
  value: string;
}

describe('the npm mlflow client drives the server (MLflow REST API, token auth)', () => {
  let backend: TestBackend;
  let server: Server;
  let endpoint: string;
  let mlflow: InstanceType<typeof MLflow>;
  let editorToken: string;
  let readerToken: string;

  beforeAll(async () => {
    // The client prints every JSON body it sends.
    vi.spyOn(console, 'log').mockImplementation(() => {});
    backend = await embeddedBackend();
    const app = testApp(backend.registry, { auth: { mode: 'token', adminToken: ADMIN } });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const made = async (name: string, role: string): Promise<string> => {
      const res = await fetch(`${endpoint}/auth/tokens`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, role }),
      });
      return ((await res.json()) as { token: string }).token;
    };
    editorToken = await made('erin', 'editor');
    readerToken = await made('rita', 'reader');
    // MLFLOW_TRACKING_USERNAME + MLFLOW_TRACKING_PASSWORD: HTTP Basic with the token as the password.
    mlflow = new MLflow({
      endpoint,
      headers: { Authorization: `Basic ${Buffer.from(`erin:${editorToken}`).toString('base64')}` },
    });
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    await backend?.cleanup();
    vi.restoreAllMocks();
  });

  it('experiments, runs, params, metrics, batch, history, search, update and artifact listing', async () => {
    // The client's types make artifact_location required; it sends nothing when it is undefined.
    const noLocation = { artifact_location: undefined as unknown as string };
    const { experiment_id } = (await mlflow.Experiments.create({ name: 'iris-mlflow', ...noLocation })) as {
      experiment_id: string;
    };
    expect(experiment_id).toMatch(/^\d+$/);
    const got = (await mlflow.Experiments.get({ experiment_id })) as { experiment: { name: string } };
    expect(got.experiment.name).toBe('iris-mlflow');
    const listed = (await mlflow.Experiments.list()) as { experiments: { experiment_id: string }[] };
    expect(listed.experiments.map((e) => e.experiment_id)).toContain(experiment_id);

    const runs: string[] = [];
    for (const [i, solver] of ['lbfgs', 'saga', 'lbfgs'].entries()) {
      const created = (await mlflow.Runs.create({
        experiment_id,
        user_id: 'erin',
        start_time: Date.now(),
        tags: [{ key: 'team', value: i === 2 ? 'nlp' : 'vision' }],
      })) as { run: { info: { run_id: string; status: string; artifact_uri: string } } };
      const id = created.run.info.run_id;
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(created.run.info.status).toBe('RUNNING');
      expect(created.run.info.artifact_uri).toBe(`mlflow-artifacts:/${experiment_id}/${id}/artifacts`);
      await mlflow.Runs.logParameter({ run_id: id, key: 'solver', value: solver });
      for (const step of [0, 1, 2]) {
        await mlflow.Runs.logMetric({
          run_id: id,
          key: 'acc',
          value: 0.8 + i * 0.05 + step * 0.01,
          timestamp: 1000 + step,
          step,
        });
      }
      await mlflow.Runs.logBatch({
        run_id: id,
        metrics: [
          { key: 'loss', value: 0.5 - i * 0.1, timestamp: 2000, step: 0 },
          { key: 'loss', value: 0.4 - i * 0.1, timestamp: 2001, step: 1 },
        ],
        params: [{ key: 'C', value: String(i + 1) }],
        tags: [{ key: 'stage', value: 'dev' }],
      });
      await mlflow.Runs.setTag({ run_id: id, key: 'note', value: 'x' });
      runs.push(id);
    }
    await mlflow.Runs.deleteTag({ run_id: runs[0]!, key: 'note' });

    const one = (await mlflow.Runs.get({ run_id: runs[1]! })) as {
      run: { data: { params: KV[]; tags: KV[]; metrics: { key: string; value: number; step: number }[] } };
    };
    expect(one.run.data.params).toEqual(
      expect.arrayContaining([
        { key: 'solver', value: 'saga' },
        { key: 'C', value: '2' },
      ]),
    );
    expect(one.run.data.metrics).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ key: 'acc', value: 0.8 + 1 * 0.05 + 2 * 0.01, step: 2, timestamp: 1002 }),
      ]),
    );

    const history = (await mlflow.Metrics.getHistory({ run_id: runs[0]!, metric_key: 'acc' })) as {
      metrics: { value: number; step: number; timestamp: number }[];
    };
    expect(history.metrics.map((m) => [m.step, m.value, m.timestamp])).toEqual([
      [0, 0.8, 1000],
      [1, 0.81, 1001],
      [2, 0.8 + 0 * 0.05 + 2 * 0.01, 1002],
    ]);

    const found = (await mlflow.Runs.search({
      experiment_ids: [experiment_id],
      filter: "metrics.acc > 0.85 and params.solver = 'lbfgs' and tags.team = 'nlp'",
      max_results: 10,
    })) as { runs: { info: { run_id: string } }[] };
    expect(found.runs.map((r) => r.info.run_id)).toEqual([runs[2]]);

    const ordered = (await mlflow.Runs.search({
      experiment_ids: [experiment_id],
      filter: "tags.team LIKE 'vis%'",
      order_by: ['metrics.acc DESC'],
      max_results: 1,
    })) as { runs: { info: { run_id: string } }[]; next_page_token?: string };
    expect(ordered.runs.map((r) => r.info.run_id)).toEqual([runs[1]]);
    const next = (await mlflow.Runs.search({
      experiment_ids: [experiment_id],
      filter: "tags.team LIKE 'vis%'",
      order_by: ['metrics.acc DESC'],
      max_results: 1,
      page_token: ordered.next_page_token,
    })) as { runs: { info: { run_id: string } }[]; next_page_token?: string };
    expect(next.runs.map((r) => r.info.run_id)).toEqual([runs[0]]);
    expect(next.next_page_token).toBeUndefined();

    const updated = (await mlflow.Runs.update({
      run_id: runs[0]!,
      status: 'FINISHED' as never,
      end_time: Date.now(),
    })) as {
      run_info: { status: string; end_time: number };
    };
    expect(updated.run_info.status).toBe('FINISHED');
    const finished = (await mlflow.Runs.search({
      experiment_ids: [experiment_id],
      filter: "attributes.status = 'FINISHED'",
    })) as { runs: { info: { run_id: string } }[] };
    expect(finished.runs.map((r) => r.info.run_id)).toEqual([runs[0]]);

    // An artifact uploaded through the proxied artifact endpoint, then listed by the client.
    const put = await fetch(
      `${endpoint}/api/2.0/mlflow-artifacts/artifacts/${experiment_id}/${runs[1]}/artifacts/plots/roc.txt`,
      {
        method: 'PUT',
        headers: { authorization: `Bearer ${editorToken}`, 'content-type': 'text/plain' },
        body: 'roc',
      },
    );
    expect(put.status).toBe(200);
    const root = (await mlflow.Artifacts.list({ run_id: runs[1]!, path: undefined as never })) as unknown;
    expect(root).toEqual({
      root_uri: `mlflow-artifacts:/${experiment_id}/${runs[1]}/artifacts`,
      files: [{ path: 'plots', is_dir: true }],
    });
    const inner = (await mlflow.Artifacts.list({ run_id: runs[1]!, path: 'plots' })) as unknown as {
      files: unknown[];
    };
    expect(inner.files).toEqual([{ path: 'plots/roc.txt', is_dir: false, file_size: 3 }]);
  });

  it('errors answer as MLflow: error_code and status; roles apply', async () => {
    const err = async (
      p: Promise<unknown>,
    ): Promise<{ status: number; data: { error_code: string; message: string } }> => {
      const e = await p.then(
        () => {
          throw new Error('expected a refusal');
        },
        (x: unknown) => x as Error,
      );
      return JSON.parse((e as Error).message.replace(/^Error: /, '')) as never;
    };
    const missing = await err(mlflow.Runs.get({ run_id: '0'.repeat(32) }));
    expect(missing.status).toBe(404);
    expect(missing.data.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
    const dup = await err(
      mlflow.Experiments.create({ name: 'iris-mlflow', artifact_location: undefined as never }),
    );
    expect(dup.status).toBe(400);
    expect(dup.data.error_code).toBe('RESOURCE_ALREADY_EXISTS');
    const bad = await err(mlflow.Runs.search({ experiment_ids: ['0'], filter: 'metrics.acc >' }));
    expect(bad.status).toBe(400);
    expect(bad.data).toMatchObject({ error_code: 'INVALID_PARAMETER_VALUE' });
    expect(bad.data.message).toContain('at position 14'); // the end of the 13-character filter;

    const reader = new MLflow({ endpoint, headers: { Authorization: `Bearer ${readerToken}` } });
    const denied = await err(
      reader.Experiments.create({ name: 'not-allowed', artifact_location: undefined as never }),
    );
    expect(denied.status).toBe(403);
    expect(denied.data.error_code).toBe('PERMISSION_DENIED');
    expect(
      ((await reader.Experiments.list()) as { experiments: unknown[] }).experiments.length,
    ).toBeGreaterThan(0);
    const anonymous = await fetch(`${endpoint}/api/2.0/mlflow/experiments/list`);
    expect(anonymous.status).toBe(401);
  });
});
