import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelRegistry } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { defaultUiDir } from '../../src/ui.js';
import type { AuthOptions } from '../../src/auth.js';
import { irisCsv, testApp } from '../helpers.js';

/** Debian's chromium (`apt-get install -y chromium`); `MODELREG_CHROMIUM` points elsewhere. */
export const CHROMIUM = process.env['MODELREG_CHROMIUM'] ?? '/usr/bin/chromium';
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Where the screenshots go: `<repo>/test-artifacts/ui/<page>-<width>.png` (git-ignored). */
export const SCREENSHOT_DIR = fileURLToPath(new URL('../../../../test-artifacts/ui/', import.meta.url));

export const VIEWPORTS = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 390, height: 844 },
} as const;
export type ViewportName = keyof typeof VIEWPORTS;

/**
 * Whether the browser tests can run. Without chromium they are skipped with a loud warning on a
 * developer machine, and fail under CI (where `.ci/run` installs it).
 */
export function browserAvailability(): { run: boolean; reason?: string } {
  if (existsSync(CHROMIUM)) return { run: true };
  const reason = `chromium is not at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set MODELREG_CHROMIUM)`;
  if (process.env['CI']) return { run: true, reason };
  console.warn(`\n!!! SKIPPING the web UI browser tests: ${reason}\n`);
  return { run: false, reason };
}

export interface Seeded {
  /** The run of `iris` version 2 (it also has a `train_loss` history). */
  irisV2RunId: string;
}

/**
 * The registry the tests look at: the iris dataset; model `iris` with v1 in production and v2, v3 in
 * staging; model `iris_canary` with v1 in production and v2 in staging; experiment `tuning` with two
 * runs that logged `loss` and `accuracy` over 10 steps.
 */
export async function seed(registry: ModelRegistry): Promise<Seeded> {
  await registry.datasets.upload('iris.csv', await readFile(irisCsv));
  const train = (name: string, stage: string, model: { type: string; params: Record<string, number> }) =>
    registry.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model,
      split: { testSize: 0.2, seed: 7 },
      register: { name, stage },
    });
  await train('iris', 'production', { type: 'decision-tree', params: { maxDepth: 2 } });
  const v2 = await train('iris', 'staging', { type: 'decision-tree', params: { maxDepth: 4 } });
  await train('iris', 'staging', { type: 'random-forest', params: { nEstimators: 5, maxDepth: 4 } });
  await train('iris_canary', 'production', { type: 'decision-tree', params: { maxDepth: 3 } });
  await train('iris_canary', 'staging', { type: 'random-forest', params: { nEstimators: 5, maxDepth: 4 } });
  await registry.setAlias('iris', 'champion', 1);

  const v2Run = await registry.openRun(v2.run.id);
  for (let step = 0; step < 10; step++) await v2Run.logMetric('train_loss', 1 / (step + 1), { step });

  for (const [name, lr] of [
    ['sgd-a', 0.1],
    ['sgd-b', 0.03],
    ['sgd-c', 0.01],
  ] as const) {
    const run = await registry.startRun({ experiment: 'tuning', name, tags: { team: 'ui-tests' } });
    await run.logParams({ lr, optimizer: 'sgd' });
    for (let step = 0; step < 10; step++) {
      await run.logMetrics(
        { loss: Math.exp(-lr * 10 * step) + 0.05, accuracy: 0.5 + 0.45 * (1 - Math.exp(-lr * 8 * step)) },
        { step },
      );
    }
    await run.end();
  }
  return { irisV2RunId: v2.run.id };
}

export interface Harness {
  url: string;
  /** The registry's folder (SQLite file + artifacts): another process can open the same registry. */
  dir: string;
  registry: ModelRegistry;
  browser: Browser;
  seeded: Seeded;
  /** A fresh page at a viewport; closed by `close()`. */
  page(viewport: ViewportName): Promise<Page>;
  /** Saves `<page>-<viewport>.png` and returns its path. */
  screenshot(page: Page, name: string, viewport: ViewportName): Promise<string>;
  /** GETs the API from the test (not the browser). */
  getJson<T>(path: string): Promise<T>;
  close(): Promise<void>;
}

/** The real app (SQLite + files in a temp folder) listening on 127.0.0.1, and chromium. */
export async function startHarness(options: { auth?: AuthOptions } = {}): Promise<Harness> {
  const uiDir = defaultUiDir();
  if (!uiDir) {
    throw new Error(
      'the web UI is not built: run `npx turbo run build --filter=@modelreg/example-express-server...` first',
    );
  }
  if (!existsSync(CHROMIUM)) throw new Error(browserAvailability().reason);
  const dir = await mkdtemp(join(tmpdir(), 'modelreg-ui-'));
  const { registry } = await openRegistryFromEnv({ MODELREG_DIR: dir });
  const contexts: BrowserContext[] = [];
  let server: Server | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await Promise.allSettled(contexts.map((c) => c.close()));
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await registry.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const seeded = await seed(registry);
    const app = testApp(registry, { ui: uiDir, ...(options.auth ? { auth: options.auth } : {}) });
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(0, '127.0.0.1', (e?: Error) => (e ? reject(e) : resolve(s)));
    });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
    await mkdir(SCREENSHOT_DIR, { recursive: true });
    const b = browser;
    return {
      url,
      dir,
      registry,
      browser: b,
      seeded,
      async page(viewport) {
        const context = await b.newContext({ viewport: VIEWPORTS[viewport], acceptDownloads: true });
        contexts.push(context);
        context.setDefaultTimeout(10_000);
        return context.newPage();
      },
      async screenshot(page, name, viewport) {
        const path = join(SCREENSHOT_DIR, `${name}-${VIEWPORTS[viewport].width}.png`);
        await page.screenshot({ path, fullPage: true });
        return path;
      },
      async getJson<T>(path: string) {
        const res = await fetch(`${url}${path}`);
        if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
        return (await res.json()) as T;
      },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}
