// Child: serves a registry through the express app and prints, per skew case, the predictions of
// the same CSV through core ({ csv }, string records, typed records) and through the HTTP API (the
// text/csv endpoint and JSON string records), as one JSON line.
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { pino } from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import type { FormAnswer } from '../../../../test-utils/value-skew.js';
import {
  predictEveryWay,
  skewCases,
  stringRecords,
  trainSkewCase,
} from '../../../../test-utils/value-skew.js';

const registry = await ModelRegistry.open({
  metadata: createMemoryMetadataStore(),
  artifacts: createMemoryArtifactStore(),
});
const app = createApp({ registry, logger: pino({ level: 'silent' }), metrics: { defaultMetrics: false } });

const answerOf = (res: request.Response): FormAnswer => {
  if (res.status !== 200) throw new Error(`predict answered ${res.status}: ${res.text}`);
  const body = res.body as { predictions: unknown[]; probabilities?: Record<string, number>[] };
  return {
    predictions: body.predictions,
    ...(body.probabilities ? { probabilities: body.probabilities } : {}),
  };
};

const results: Record<string, unknown> = {};
for (const c of skewCases()) {
  await trainSkewCase(registry, c);
  const path = `/models/${c.name}/predict?version=1${c.classification ? '&proba=true' : ''}`;
  results[c.name] = await predictEveryWay(registry, c, {
    httpCsv: async () => answerOf(await request(app).post(path).set('Content-Type', 'text/csv').send(c.csv)),
    httpStringRecords: async () =>
      answerOf(
        await request(app)
          .post(path)
          .send({ rows: stringRecords(c.csv) }),
      ),
  });
}
await registry.close();
process.stdout.write(
  `${JSON.stringify({ tz: process.env.TZ, offsetMinutes: new Date(2024, 2, 9, 12).getTimezoneOffset(), results })}\n`,
);
