import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ModelRegistry } from '@modelreg/core';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import type { FormAnswer } from '../../../test-utils/value-skew.js';
import { skewCases } from '../../../test-utils/value-skew.js';
import type { TestBackend } from './helpers.js';
import { embeddedBackend, testApp } from './helpers.js';

type ChildResult = { tz: string; offsetMinutes: number; results: Record<string, Record<string, FormAnswer>> };

function runChild(bundle: string, tz: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    // TZ only takes effect when it is set before Node starts, hence a child process per zone.
    const child = spawn(process.execPath, [bundle], { env: { ...process.env, TZ: tz } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`child under TZ=${tz} exited with ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
    });
  });
}

describe('the CSV endpoint reads values as training did (issue 11, acceptance 1)', () => {
  it('every shared dataset and the mixed-values CSV predict identically through the text/csv endpoint, JSON string records and core, under TZ=UTC and TZ=America/New_York', async () => {
    const bundle = await bundleForChildProcess(
      fileURLToPath(new URL('./children/skew-http.ts', import.meta.url)),
    );
    const [utc, newYork] = await Promise.all([runChild(bundle, 'UTC'), runChild(bundle, 'America/New_York')]);
    expect([utc.offsetMinutes, newYork.offsetMinutes]).toEqual([0, 300]);
    expect(Object.keys(utc.results)).toEqual(skewCases().map((c) => c.name));
    for (const [name, answers] of Object.entries(utc.results)) {
      expect(Object.keys(answers)).toEqual([
        'csv',
        'stringRecords',
        'typedRecords',
        'httpCsv',
        'httpStringRecords',
      ]);
      for (const [form, answer] of Object.entries(answers)) {
        expect(answer, `${name}: ${form} vs { csv }`).toEqual(answers.csv);
      }
    }
    expect(newYork.results).toEqual(utc.results);
  }, 180_000);
});

describe('a feature named __proto__ over HTTP', () => {
  let backend: TestBackend;
  let registry: ModelRegistry;
  beforeEach(async () => {
    backend = await embeddedBackend();
    registry = backend.registry;
  });
  afterEach(async () => {
    await backend.cleanup();
  });

  it('is predicted from JSON records and from a text/csv body', async () => {
    const csv = [
      '__proto__,label',
      ...Array.from({ length: 40 }, (_, i) => `${i % 2},${i % 2 ? 'b' : 'a'}`),
    ].join('\n');
    await registry.train({
      dataset: { csv },
      target: 'label',
      model: { type: 'decision-tree' },
      register: { name: 'protos', stage: 'production' },
    });
    const app = testApp(registry);
    const json = await request(app)
      .post('/models/protos/predict')
      .set('Content-Type', 'application/json')
      .send('{"rows": [{"__proto__": 1}, {"__proto__": "0"}]}');
    expect(json.status, json.text).toBe(200);
    expect(json.body.predictions).toEqual(['b', 'a']);
    const text = await request(app)
      .post('/models/protos/predict')
      .set('Content-Type', 'text/csv')
      .send('__proto__\n1\n0\n');
    expect(text.status, text.text).toBe(200);
    expect(text.body.predictions).toEqual(['b', 'a']);
  });
});
