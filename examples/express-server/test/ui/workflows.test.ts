import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Harness, ViewportName } from './harness.js';
import { browserAvailability, startHarness } from './harness.js';

const availability = browserAvailability();

/** Expressions are strings so that the server package's typecheck needs no DOM types. */
const inPage = <T>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

/** Runs `test/children/promote.mjs`: another process on the same registry folder moves a version. */
function promoteFromAnotherProcess(
  dir: string,
  model: string,
  version: number,
  stage: string,
): Promise<void> {
  const script = fileURLToPath(new URL('../children/promote.mjs', import.meta.url));
  const child = spawn(process.execPath, [script, model, String(version), stage], {
    env: { ...process.env, MODELREG_DIR: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) =>
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`promote exited ${code}: ${stderr}`)),
    ),
  );
}

/** The UI as an ML engineer uses it instead of MLflow's: lineage, training, comparing, live updates, API docs. */
describe.runIf(availability.run)('web UI workflows in chromium', () => {
  let h: Harness;
  let desktop: Page;
  let tuningRunIds: string[] = [];

  beforeAll(async () => {
    h = await startHarness();
    // A deployment to follow: iris_canary serves v1 (production) and v2 as next, 25 %.
    const res = await fetch(`${h.url}/models/iris_canary/canary`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ current: 'production', next: 2, weight: 0.25 }),
    });
    expect(res.status).toBe(201);
    const { runs } = await h.getJson<{ runs: { id: string; name: string }[] }>(
      '/experiments/tuning/runs?orderBy=name',
    );
    tuningRunIds = runs.map((r) => r.id);
    desktop = await h.page('desktop');
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('follows lineage from a dataset to a run, a version and its deployment, and back', async () => {
    const page = desktop;
    await page.goto(`${h.url}/#/datasets/iris`);
    const usage = page.getByTestId('dataset-usage');
    const row = usage.getByRole('listitem').filter({ hasText: 'iris_canary v2' });
    await row.waitFor();
    // Every run trained on iris is listed, each with the version it became.
    expect(await usage.getByRole('listitem').count()).toBe(5);
    await row.locator('a[data-lineage="run"]').click();

    const runLineage = page.getByTestId('run-lineage');
    await runLineage.getByText('Registered as').waitFor();
    expect(await runLineage.textContent()).toMatch(/Trained on iris v1\. Registered as iris_canary v2/);
    await runLineage.getByRole('link', { name: 'iris_canary v2' }).click();

    await page.getByRole('heading', { level: 1, name: 'iris_canary v2' }).waitFor();
    const lineage = page.getByTestId('lineage');
    const deployment = lineage.locator('a[data-lineage="deployment"]');
    await deployment.waitFor();
    expect(await deployment.textContent()).toBe('canary of iris_canary: serves this version as next');
    expect(await lineage.locator('a[data-lineage="dataset"]').textContent()).toBe('iris v1');
    await deployment.click();

    const panel = page.getByTestId('canary-panel');
    await panel.waitFor();
    expect(await page.getByTestId('canary-plain').textContent()).toBe(
      'current: v1 (production), 75 %; next: v2, 25 %',
    );
    // Nothing of the arms table is cut off on a desktop: its box is as wide as the table.
    const clipped = await inPage<number>(
      page,
      `(() => { const w = document.querySelector('[data-testid="canary-panel"] .table-wrap'); return w.scrollWidth - w.clientWidth; })()`,
    );
    expect(clipped).toBeLessThanOrEqual(0);

    // And back: the arm's version, its dataset.
    await panel.getByRole('link', { name: 'v2' }).click();
    await page.getByRole('heading', { level: 1, name: 'iris_canary v2' }).waitFor();
    await page.getByTestId('lineage').locator('a[data-lineage="dataset"]').click();
    await page.getByRole('heading', { name: 'iris', exact: true }).waitFor();
    expect(page.url()).toMatch(/#\/datasets\/iris$/);
  });

  it('compares three runs: differing params highlighted, the best of each metric marked, curves overlaid', async () => {
    const page = desktop;
    await page.goto(`${h.url}/#/experiments/tuning`);
    for (const name of ['sgd-a', 'sgd-b', 'sgd-c']) await page.getByLabel(`Select run ${name}`).check();
    await page.getByRole('button', { name: 'Compare selected (3)' }).click();
    const compare = page.getByTestId('compare');
    await compare.getByRole('columnheader', { name: 'sgd-c' }).waitFor();
    const rowOf = (label: RegExp) =>
      compare.getByRole('row').filter({ has: page.getByRole('rowheader', { name: label }) });
    expect(await rowOf(/^param lr/).getAttribute('class')).toBe('differs');
    expect(await rowOf(/^param optimizer/).getAttribute('class')).toBeNull();
    // sgd-a (the largest rate) ends with the lowest loss and the highest accuracy.
    const headers = await compare.locator('thead th').allTextContents();
    const bestColumn = async (label: RegExp) => {
      const cells = await rowOf(label)
        .locator('td')
        .evaluateAll((tds) => tds.map((td) => td.hasAttribute('data-best')));
      return cells.flatMap((best, i) => (best ? [headers[i + 1]] : []));
    };
    expect(await bestColumn(/^metric loss/)).toEqual(['sgd-a']);
    expect(await bestColumn(/^metric accuracy/)).toEqual(['sgd-a']);
    await compare.getByLabel('Metric to plot').selectOption('accuracy');
    const chart = compare.getByTestId('compare-chart');
    await chart.locator('canvas').waitFor();
    expect(await chart.getAttribute('data-series')).toBe('3');
    expect(await chart.getAttribute('data-points')).toBe('30');
  });

  it('trains from the UI as a job, shows its progress, and links the registered version', async () => {
    const page = desktop;
    await page.goto(`${h.url}/#/train`);
    const form = page.getByRole('form', { name: 'Train a model' });
    await form.getByLabel('Dataset', { exact: true }).selectOption('iris');
    await form.getByLabel('Target column').selectOption('species');
    await form.getByLabel('Model type').selectOption('decision-tree');
    await form.getByLabel('Params (JSON)').fill('{ "maxDepth": 3 }');
    await form.getByLabel('Register as model (optional)').fill('iris_ui');
    await form.getByLabel('Stage of the new version').selectOption('staging');
    await form.getByRole('button', { name: 'Train' }).click();

    const job = page.getByTestId('job');
    await page
      .locator(
        '[data-testid="job"]:is([data-state="succeeded"], [data-state="failed"], [data-state="cancelled"])',
      )
      .waitFor({ timeout: 30_000 })
      .catch(() => undefined);
    expect(await page.getByTestId('alerts').textContent()).toBe('');
    expect(`${await job.getAttribute('data-state')}: ${await job.textContent()}`).toMatch(/^succeeded: /);
    expect(await job.locator('progress').getAttribute('value')).toBe('100');
    const phases = (await job.getAttribute('data-phases'))!.split(' ');
    expect(phases.at(-1)).toBe('succeeded:done');
    await page.getByTestId('job-result').getByRole('link', { name: 'iris_ui v1' }).click();

    await page.getByRole('heading', { level: 1, name: 'iris_ui v1' }).waitFor();
    expect(await page.getByTestId('version-stage').textContent()).toBe('staging');
    // The confusion matrix is drawn: one cell per (true, predicted) pair, counting the test rows.
    const cells = page.getByTestId('confusion-matrix').locator('tbody td');
    await cells.first().waitFor();
    const counts = (await cells.allTextContents()).map(Number);
    expect(counts).toHaveLength(9);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    // MODEL.json's importance is drawn: the tree's gain and the permutation importance, one bar per feature.
    const charts = page.getByTestId('feature-importance');
    await charts.first().waitFor();
    expect(await charts.count()).toBe(2);
    expect(await charts.first().locator('.bar-label').allTextContents()).toHaveLength(4);
    const files = page.getByTestId('version-files');
    expect(await files.locator('tbody th').allTextContents()).toEqual(
      expect.arrayContaining(['MODEL.json', 'model.onnx']),
    );
    const link = files.getByRole('link', { name: 'MODEL.json' });
    expect(await link.getAttribute('href')).toMatch(/^runs\/[^/]+\/artifacts\/model\/MODEL\.json$/);
    expect((await h.getJson<{ stage: string }>('/models/iris_ui/versions/1')).stage).toBe('staging');
  });

  it('shows a promotion made by another process without a reload', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/#/models/iris`);
    const badge = page.getByTestId('versions-table').locator('tr[data-version="3"] .badge');
    await expect.poll(() => badge.textContent()).toBe('staging');
    await page.waitForFunction('document.documentElement.dataset.live === "on"');
    await inPage(page, 'window.__sameDocument = true');

    await promoteFromAnotherProcess(h.dir, 'iris', 3, 'production');

    await expect.poll(() => badge.textContent(), { timeout: 8000 }).toBe('production');
    await page.getByTestId('history').getByText('version 3: staging → production').waitFor();
    expect(await page.getByTestId('history').textContent()).toContain('by release-bot');
    expect(await inPage<boolean>(page, 'window.__sameDocument === true')).toBe(true);
  });

  it('runs the API docs (Swagger UI from the package) and executes a GET', async () => {
    const page = desktop;
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(h.url)) outside.push(r.url());
    });
    // Swagger UI's bundle is 1.7 MB of script: give it time on a loaded machine.
    await page.goto(`${h.url}/docs`, { timeout: 45_000 });
    const op = page.locator('.opblock-get').filter({ has: page.locator('[data-path="/models"]') });
    await op.locator('.opblock-summary').first().click({ timeout: 45_000 });
    await op.getByRole('button', { name: 'Try it out' }).click();
    await op.getByRole('button', { name: 'Execute' }).click();
    const response = op.locator('.live-responses-table .response').first();
    await response.waitFor();
    expect((await response.locator('.response-col_status').textContent())?.trim()).toBe('200');
    expect(await response.locator('.response-col_description').textContent()).toContain('"name": "iris"');
    expect(outside).toEqual([]);
  }, 120_000);

  it('shows every page at 1280 and 390 px, never wider than the screen at 390 px, with screenshots', async () => {
    const { irisV2RunId } = h.seeded;
    const pages: [string, string, string][] = [
      ['models', '#/models', '[data-testid="models-table"]'],
      ['model', '#/models/iris', '[data-testid="history"]'],
      ['version', '#/models/iris/versions/2', '[data-testid="confusion-matrix"]'],
      ['canary', '#/models/iris_canary', '[data-testid="canary-panel"]'],
      ['experiments', '#/experiments', 'main table'],
      ['runs', '#/experiments/tuning', '[data-testid="runs-table"]'],
      ['run', `#/runs/${irisV2RunId}`, '[data-testid="signature"]'],
      ['compare', `#/compare?runs=${tuningRunIds.join(',')}`, '[data-testid="compare-chart"] canvas'],
      ['datasets', '#/datasets/iris', '[data-testid="dataset-usage"]'],
      ['train', '#/train', 'form[aria-label="Train a model"]'],
      ['docs', 'docs', '.opblock'],
    ];
    const phone = await h.page('phone');
    const widths: Record<string, number> = {};
    for (const [viewport, page] of [
      ['desktop', desktop],
      ['phone', phone],
    ] as [ViewportName, Page][]) {
      for (const [name, path, ready] of pages) {
        await page.goto(`${h.url}/${path}`, { timeout: 45_000 });
        await page
          .locator(ready)
          .first()
          .waitFor({ timeout: name === 'docs' ? 45_000 : 10_000 });
        await h.screenshot(page, name, viewport);
        if (viewport === 'phone')
          widths[name] = await inPage<number>(
            page,
            'document.documentElement.scrollWidth - document.documentElement.clientWidth',
          );
      }
    }
    expect(widths).toEqual(Object.fromEntries(pages.map(([name]) => [name, 0])));
  }, 180_000);
});

if (!availability.run) {
  describe('web UI workflows in chromium (skipped)', () => {
    it.skip(`needs chromium: ${availability.reason ?? ''}`, () => undefined);
  });
}
