import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IRIS_ROWS } from '../helpers.js';
import type { Harness, ViewportName } from './harness.js';
import { browserAvailability, startHarness } from './harness.js';

const availability = browserAvailability();

/**
 * Evaluates an expression in the page. Expressions are strings so that the server package's
 * typecheck needs no DOM types.
 */
const inPage = <T>(page: Page, expression: string): Promise<T> => page.evaluate(expression) as Promise<T>;

/** The page does not scroll sideways: wide tables scroll inside their own box. */
async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const overflow = await inPage<number>(page, 'document.documentElement.scrollWidth - window.innerWidth');
  expect(overflow).toBeLessThanOrEqual(1);
}

/** Pixels of the canvas under `selector` that are not transparent: the chart really drew something. */
const paintedPixels = (page: Page, selector: string): Promise<number> =>
  inPage<number>(
    page,
    `(() => {
      const c = document.querySelector(${JSON.stringify(selector)});
      const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
      return n;
    })()`,
  );

/** A property (or call) of the focused element. */
const focused = (page: Page, what = 'textContent'): Promise<string | null> =>
  inPage<string | null>(page, `document.activeElement?.${what} ?? null`);

describe.runIf(availability.run)('web UI in chromium', () => {
  let h: Harness;
  const shots: string[] = [];
  const shoot = async (page: Page, name: string, viewport: ViewportName) => {
    shots.push(await h.screenshot(page, name, viewport));
  };

  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    if (shots.length) console.info(`web UI screenshots:\n${shots.map((s) => `  ${s}`).join('\n')}`);
  });

  it('lists the models, opens one, and promotes a version to production through a confirmed move', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/`);
    const models = page.getByTestId('models-table');
    await expect
      .poll(() => models.locator('tbody th[scope="row"] a').allTextContents())
      .toEqual(['iris', 'iris_canary']);
    const irisRow = models
      .getByRole('row')
      .filter({ has: page.getByRole('link', { name: 'iris', exact: true }) });
    await expect.poll(() => irisRow.textContent()).toMatch(/@champion → v1/);
    await shoot(page, 'models', 'desktop');

    await page.getByRole('link', { name: 'iris', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'iris' }).waitFor();
    const versions = page.getByTestId('versions-table');
    await versions.locator('tr[data-version="3"]').waitFor();
    const history = page.getByTestId('history');
    await history.getByText('@champion set to version 1').waitFor();
    const movesBefore = await history.getByRole('listitem').count();

    // Keyboard: the dialog takes focus, Escape cancels, and focus returns to the button.
    await page.getByLabel('Stage for version 2').selectOption('production');
    const move = page.getByRole('button', { name: 'Move version 2' });
    await move.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Move version 2 to production?' });
    await dialog.waitFor();
    expect(await focused(page)).toBe('Move');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect(await focused(page, "getAttribute('aria-label')")).toBe('Move version 2');
    expect((await h.getJson<{ stage: string }>('/models/iris/versions/2')).stage).toBe('staging');

    await move.click();
    await dialog.getByLabel('Comment (optional)').fill('better recall');
    await dialog.getByRole('button', { name: 'Move', exact: true }).click();
    await dialog.waitFor({ state: 'hidden' });
    await history.getByText('version 2: staging → production').waitFor();
    await expect.poll(() => history.getByRole('listitem').count()).toBe(movesBefore + 2);
    await expect.poll(() => versions.locator('tr[data-version="1"] .badge').textContent()).toBe('archived');
    expect((await h.getJson<{ stage: string }>('/models/iris/versions/2')).stage).toBe('production');
    const { history: moves } = await h.getJson<{
      history: { version: number; toStage: string; comment: string }[];
    }>('/models/iris/history');
    expect(moves.slice(movesBefore)).toEqual([
      expect.objectContaining({
        version: 2,
        fromStage: 'staging',
        toStage: 'production',
        comment: 'better recall',
      }),
      expect.objectContaining({ version: 1, fromStage: 'production', toStage: 'archived' }),
    ]);
    await page.getByRole('status').getByText('Version 2 moved to production.').waitFor();
    await shoot(page, 'model', 'desktop');
  });

  it('shows the API’s error when a write is refused (an invalid alias name)', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/#/models/iris`);
    await page.getByRole('form', { name: 'Set an alias' }).waitFor();
    await page.getByRole('textbox', { name: 'Alias', exact: true }).fill('bad alias!');
    await page.getByRole('button', { name: 'Set alias…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Set alias' }).click();
    const alert = page.getByTestId('alerts');
    await alert
      .getByText(/Setting alias "bad alias!" failed: params\.alias: .*\(400 INVALID_REQUEST\)/)
      .waitFor();
    expect(await page.getByRole('alert').first().isVisible()).toBe(true);
    const model = await h.getJson<{ aliases: Record<string, number> }>('/models/iris');
    expect(model.aliases).toEqual({ champion: 1 });
  });

  it('sorts the runs of an experiment, compares two, and plots a metric over steps for each', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/#/experiments`);
    await page.getByRole('link', { name: 'tuning' }).click();
    const table = page.getByTestId('runs-table');
    await table.getByRole('link', { name: 'sgd-a' }).waitFor();

    await table.getByRole('button', { name: /^loss/ }).click();
    await expect
      .poll(() => table.locator('tbody th[scope="row"]').allTextContents())
      .toEqual(['sgd-c', 'sgd-b', 'sgd-a']);
    await table.getByRole('button', { name: /^loss/ }).click();
    await expect
      .poll(() => table.locator('tbody th[scope="row"]').allTextContents())
      .toEqual(['sgd-a', 'sgd-b', 'sgd-c']);
    expect(await table.locator('th[aria-sort="ascending"]').textContent()).toMatch(/^loss/);

    await page.getByLabel('Select run sgd-a').check();
    await page.getByLabel('Select run sgd-c').check();
    await page.getByRole('button', { name: 'Compare selected (2)' }).click();
    const compare = page.getByTestId('compare');
    await compare.getByRole('columnheader', { name: 'sgd-c' }).waitFor();
    await compare.getByLabel('Metric to plot').selectOption('loss');
    const chart = compare.getByTestId('compare-chart');
    await chart.locator('canvas').waitFor();
    expect(await chart.getAttribute('data-series')).toBe('2');
    expect(await chart.getAttribute('data-points')).toBe('20');
    expect(await chart.locator('figcaption').textContent()).toBe('loss over steps');
    await expect.poll(() => paintedPixels(page, '[data-testid="compare-chart"] canvas')).toBeGreaterThan(200);
    await shoot(page, 'runs', 'desktop');
  });

  it('shows a run: params, metric charts, tags, artifacts to download and the model signature', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/#/runs/${h.seeded.irisV2RunId}`);
    const signature = page.getByTestId('signature');
    await signature.waitFor();
    expect(await signature.locator('tbody th').allTextContents()).toEqual([
      'sepal_length_cm',
      'sepal_width_cm',
      'petal_length_cm',
      'petal_width_cm',
    ]);
    await page.getByTestId('metric-chart-train_loss').locator('canvas').waitFor();
    expect(await page.getByTestId('metric-chart-train_loss').getAttribute('data-points')).toBe('10');
    await page
      .getByRole('cell', { name: 'modelreg.trainer' })
      .or(page.getByText('modelreg.trainer'))
      .first()
      .waitFor();

    const link = page.getByTestId('artifacts').getByRole('link', { name: 'model/MODEL.json' });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    expect(download.suggestedFilename()).toBe('MODEL.json');
    const saved = await download.path();
    const { readFile } = await import('node:fs/promises');
    expect((JSON.parse(await readFile(saved, 'utf8')) as { target: string }).target).toBe('species');
    await shoot(page, 'run', 'desktop');
  });

  it('uploads a CSV from the datasets page and shows its inferred schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'modelreg-ui-csv-'));
    try {
      const csv = join(dir, 'Weather Log.csv');
      await writeFile(
        csv,
        'day,city,temp_c,rain,windy\n2024-01-01,Oslo,-3.5,0,true\n2024-01-02,Oslo,,2,false\n2024-01-03,Bergen,4.25,NA,true\n2024-01-04,Bergen,5,1,false\n',
      );
      const page = await h.page('desktop');
      await page.goto(`${h.url}/#/datasets`);
      await page.getByTestId('datasets-table').getByRole('link', { name: 'iris' }).waitFor();
      await page.getByLabel('CSV file').setInputFiles(csv);
      await page.getByRole('button', { name: 'Upload' }).click();
      const result = page.getByTestId('upload-result');
      await result.getByRole('heading', { name: /New version: weather_log v1/ }).waitFor();
      const rows = await result
        .getByTestId('schema')
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => [...tr.children].slice(0, 3).map((c) => c.textContent)));
      expect(rows).toEqual([
        ['day', 'datetime', '0'],
        ['city', 'categorical', '0'],
        ['temp_c', 'number', '1'],
        ['rain', 'integer', '1'],
        ['windy', 'boolean', '0'],
      ]);
      await page.getByTestId('datasets-table').getByRole('link', { name: 'weather_log' }).waitFor();
      await shoot(page, 'datasets', 'desktop');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('starts a canary, changes its weight with the slider, and shows rows per arm', async () => {
    const page = await h.page('desktop');
    await page.goto(`${h.url}/#/models/iris_canary`);
    const form = page.getByRole('form', { name: 'Start a canary' });
    await form.getByLabel('Current (stage, @alias, latest or version)').fill('production');
    await form.getByLabel('Next', { exact: true }).fill('2');
    await form.getByLabel('Share for next (%)').fill('10');
    await form.getByRole('button', { name: 'Start canary' }).click();
    const panel = page.getByTestId('canary-panel');
    await panel.waitFor();

    await panel.getByLabel('Share of rows for next:').fill('40');
    await expect
      .poll(async () => (await h.getJson<{ weight: number }>('/models/iris_canary/canary')).weight, {
        timeout: 5000,
      })
      .toBe(0.4);
    expect(await panel.getByTestId('canary-weight-value').textContent()).toBe('40 %');

    const predict = await fetch(`${h.url}/models/iris_canary/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rows: [...IRIS_ROWS, ...IRIS_ROWS, ...IRIS_ROWS] }),
    });
    expect(predict.status).toBe(200);
    // The panel polls every 2 s: the rows show up without a reload.
    await expect
      .poll(
        async () => {
          const cells = await panel
            .locator('tbody tr')
            .evaluateAll((trs) => trs.map((tr) => Number(tr.children[3]?.textContent ?? 0)));
          return cells.reduce((a, b) => a + b, 0);
        },
        { timeout: 6000 },
      )
      .toBe(9);
    await shoot(page, 'canary', 'desktop');

    await panel.getByRole('button', { name: 'Roll back…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Roll back' }).click();
    await expect
      .poll(async () => (await h.getJson<{ weight: number }>('/models/iris_canary/canary')).weight)
      .toBe(0);
  });

  it('fits phone widths: every page without sideways scrolling, with screenshots', async () => {
    const page = await h.page('phone');
    const pages: [string, string, string][] = [
      ['models', '#/models', '[data-testid="models-table"]'],
      ['model', '#/models/iris', '[data-testid="history"]'],
      ['runs', '#/experiments/tuning', '[data-testid="runs-table"]'],
      ['run', `#/runs/${h.seeded.irisV2RunId}`, '[data-testid="signature"]'],
      ['datasets', '#/datasets', '[data-testid="datasets-table"]'],
      ['canary', '#/models/iris_canary', '[data-testid="canary-panel"]'],
    ];
    for (const [name, hash, ready] of pages) {
      await page.goto(`${h.url}/${hash}`);
      await page.locator(ready).waitFor();
      if (name === 'runs') {
        await page.getByLabel('Select run sgd-a').check();
        await page.getByLabel('Select run sgd-b').check();
        await page.getByRole('button', { name: 'Compare selected (2)' }).click();
        await page.getByTestId('compare-chart').locator('canvas').waitFor();
      }
      await shoot(page, name, 'phone');
      await expectNoSidewaysScroll(page);
    }
    // Keyboard reachable: on a fresh load Tab reaches the skip link, which moves focus to the page.
    await page.goto('about:blank');
    await page.goto(`${h.url}/#/models`);
    await page.getByTestId('models-table').waitFor();
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await focused(page, 'id')).toBe('main');
    await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('Refresh');
  });
});

if (!availability.run) {
  describe('web UI in chromium (skipped)', () => {
    it.skip(`needs chromium: ${availability.reason ?? ''}`, () => undefined);
  });
}
