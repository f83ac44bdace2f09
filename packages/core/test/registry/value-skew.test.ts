import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundleForChildProcess } from '../../../../test-utils/bundle.js';
import { mixedValuesCsv } from '../../../../test-utils/mixed-values.js';
import {
  predictEveryWay,
  skewCases,
  stringRecords,
  trainSkewCase,
} from '../../../../test-utils/value-skew.js';
import type { FormAnswer } from '../../../../test-utils/value-skew.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import { openMemoryRegistry } from './helpers.js';

let registry: ModelRegistry;
beforeEach(async () => {
  registry = await openMemoryRegistry();
});
afterEach(async () => {
  await registry.close();
});

function expectAllFormsEqual(answers: Record<string, FormAnswer>): void {
  const [first, ...rest] = Object.entries(answers);
  for (const [form, answer] of rest) {
    expect(answer, `${form} vs ${first![0]}`).toEqual(first![1]);
  }
}

describe('one value semantics from CSV to prediction (issue 11, acceptance 1)', () => {
  it.each(skewCases().map((c) => [c.name, c] as const))(
    'a model trained on %s predicts that CSV identically as { csv }, as string records and as typed records',
    async (_, c) => {
      await trainSkewCase(registry, c);
      const answers = await predictEveryWay(registry, c);
      expect(answers.csv!.predictions).toHaveLength(stringRecords(c.csv).length);
      expectAllFormsEqual(answers);
    },
  );

  it('the mixed CSV is sensitive to the skew: reading offset-less datetimes 5 hours late changes predictions', async () => {
    const c = skewCases().find((s) => s.name === 'mixed_values')!;
    await trainSkewCase(registry, c);
    const model = await registry.load('models:/mixed_values/1');
    const records = stringRecords(c.csv);
    const asUtc = await model.predict(records);
    const shifted = records.map((r) => {
      const m = /^2024-03-10 (\d{2}):(\d{2})$/.exec(r.when!);
      if (!m) return r;
      return { ...r, when: String(Date.UTC(2024, 2, 10, Number(m[1]) + 5, Number(m[2]))) };
    });
    const asNewYork = await model.predict(shifted);
    const changed = asUtc.filter((p, i) => p !== asNewYork[i]).length;
    expect(changed).toBeGreaterThan(10);
  });

  it("the canary reads a CSV with the same rules: each row gets its arm model's { csv } prediction", async () => {
    const c = skewCases().find((s) => s.name === 'mixed_values')!;
    await trainSkewCase(registry, c);
    await registry.train({
      dataset: 'mixed_values',
      target: c.target,
      features: [...c.features!],
      model: { type: 'decision-tree', params: { maxDepth: 3 } },
      register: { name: 'mixed_values' },
    });
    let draw = 0;
    const canary = registry.canary({
      model: 'mixed_values',
      current: 1,
      next: 2,
      weight: 0.5,
      random: () => (draw++ % 2 === 0 ? 0.1 : 0.9),
    });
    const expected = {
      current: await (await registry.load('models:/mixed_values/1')).predict({ csv: c.csv }),
      next: await (await registry.load('models:/mixed_values/2')).predict({ csv: c.csv }),
    };
    for (const input of [{ csv: c.csv }, stringRecords(c.csv)]) {
      const answer = await canary.predict(input);
      expect(new Set(answer.arms)).toEqual(new Set(['current', 'next']));
      expect(answer.predictions).toEqual(answer.arms.map((arm, i) => expected[arm][i]));
    }
  });

  it('the mixed CSV holds every kind of value the rules cover', () => {
    const csv = mixedValuesCsv();
    for (const text of [
      ',NA,',
      ',N/A,',
      ',,',
      ',n/a,',
      ',yes,',
      ',no,',
      ',true,',
      ',false,',
      ',YES,',
      ',False,',
    ]) {
      expect(csv, text).toContain(text);
    }
    expect(csv).toMatch(/\n2024-03-10 \d{2}:\d{2},/);
    expect(csv).toMatch(/\n2024-03-10T\d{2}:\d{2}:00Z,/);
    expect(csv).toMatch(/\n2024-03-1[01]T\d{2}:\d{2}:00\+02:00,/);
  });
});

describe('predictions do not depend on the process time zone', () => {
  const runChild = (
    bundle: string,
    tz: string,
  ): Promise<{ tz: string; offsetMinutes: number; results: unknown }> =>
    new Promise((resolve, reject) => {
      // TZ only takes effect when it is set before Node starts, hence a child process per zone.
      const child = spawn(process.execPath, [bundle], { env: { ...process.env, TZ: tz } });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', (code) => {
        if (code !== 0) reject(new Error(`child under TZ=${tz} exited with ${code}: ${err}`));
        else resolve(JSON.parse(out.trim().split('\n').at(-1)!));
      });
    });

  it('every dataset gives the same predictions in every form under TZ=UTC and TZ=America/New_York', async () => {
    const bundle = await bundleForChildProcess(
      fileURLToPath(new URL('./child/skew-predictions.ts', import.meta.url)),
    );
    const [utc, newYork] = await Promise.all([runChild(bundle, 'UTC'), runChild(bundle, 'America/New_York')]);
    expect(utc.offsetMinutes).toBe(0);
    expect(newYork.offsetMinutes).toBe(300);
    for (const answers of Object.values(utc.results as Record<string, Record<string, FormAnswer>>)) {
      expectAllFormsEqual(answers);
    }
    expect(Object.keys(utc.results as object)).toEqual(skewCases().map((c) => c.name));
    expect(newYork.results).toEqual(utc.results);
  }, 120_000);
});
