import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cell, DataTable, ModelRegistry, PredictInput } from '@modelreg/core';
import { readCsvRecords } from '@modelreg/core/datasets';
import { formatModelUri, RegistryError } from '@modelreg/core';

export const sampleCsv = fileURLToPath(new URL('../data/energy_load.csv', import.meta.url));

export interface CommandOptions {
  data?: string | undefined;
  target?: string | undefined;
  name?: string | undefined;
  experiment?: string | undefined;
  model?: string | undefined;
  type?: string | undefined;
  trees?: string | undefined;
  run?: string | undefined;
  version?: string | undefined;
  stage?: string | undefined;
  register?: boolean | undefined;
  json?: boolean | undefined;
}

export interface CommandContext {
  registry: ModelRegistry;
  describe: string;
  options: CommandOptions;
  print: (text: string) => void;
}

const fmt = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(4));

function positiveInt(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new RegistryError('INVALID_ARGUMENT', `--${flag} must be a positive integer, got "${value}"`, {
      where: 'cli',
    });
  return n;
}

/** The first `n` rows of a table as records (all columns). */
export function headRecords(table: DataTable, n: number): Record<string, Cell>[] {
  const rows: Record<string, Cell>[] = [];
  for (let i = 0; i < Math.min(n, table.rowCount); i++) {
    rows.push(Object.fromEntries(table.columns.map((c) => [c.name, table.data[c.name]![i]!])));
  }
  return rows;
}

/** `--type` and `--trees` as a model spec: the tree count applies to forests only. */
function modelSpec(options: CommandOptions): { type: string; params: Record<string, number> } {
  const type = options.type ?? 'random-forest';
  const trees = positiveInt(options.trees, 'trees');
  return { type, params: type === 'random-forest' ? { nEstimators: trees, maxDepth: 10 } : { maxDepth: 10 } };
}

async function upload(ctx: CommandContext) {
  const path = ctx.options.data ?? sampleCsv;
  const dataset = await ctx.registry.datasets.upload(basename(path), await readFile(path));
  ctx.print(
    `dataset   ${dataset.name} v${dataset.version} (${dataset.created ? 'new' : 'unchanged'}): ${dataset.rows} rows, sha256 ${dataset.sha256.slice(0, 12)}…`,
  );
  ctx.print(`          columns: ${dataset.columns.map((c) => `${c.name}:${c.type}`).join(', ')}`);
  return dataset;
}

async function train(ctx: CommandContext, register: boolean) {
  const dataset = await upload(ctx);
  const started = performance.now();
  let lastShown = -1;
  const experiment = ctx.options.experiment ?? ctx.options.name ?? 'energy_load';
  const result = await ctx.registry.train({
    experiment,
    dataset: { name: dataset.name, version: dataset.version },
    target: ctx.options.target ?? 'target',
    model: modelSpec(ctx.options),
    split: { testSize: 0.2, seed: 42 },
    ...(register ? { register: { name: ctx.options.name ?? 'energy_load' } } : {}),
    onProgress: (p) => {
      const pct = Math.floor(p.fraction * 10) * 10;
      if (pct !== lastShown && pct % 50 === 0) {
        lastShown = pct;
        ctx.print(`          training… ${pct}%`);
      }
    },
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  ctx.print(`run       ${result.run.id} (${result.run.status}) in experiment "${experiment}", ${seconds} s`);
  ctx.print(`features  ${result.manifest.features.map((f) => f.name).join(', ')}`);
  ctx.print(
    `metrics   ${Object.entries(result.metrics)
      .map(([k, v]) => `${k}=${fmt(v)}`)
      .join('  ')}`,
  );
  if (result.version)
    ctx.print(`version   ${result.version.name} v${result.version.version} (stage ${result.version.stage})`);
  return { dataset, ...result };
}

/** Predicts `records` with the model at `uri` and prints one line per row (`actual` only when the rows carry the target). */
async function predictRecords(
  ctx: CommandContext,
  uri: string,
  records: Record<string, Cell>[],
  input: PredictInput = records,
) {
  const model = await ctx.registry.load(uri);
  const predictions = await model.predict(input);
  ctx.print(
    `predict   ${uri} -> ${model.version ? `${model.version.name} v${model.version.version}` : 'run model'} (${model.format}), ${predictions.length} rows`,
  );
  const target = model.manifest.target;
  records.forEach((r, i) => {
    const p = predictions[i];
    const actual = Object.hasOwn(r, target) ? `, actual ${String(r[target])}` : '';
    ctx.print(`          row ${i + 1}: predicted ${typeof p === 'number' ? fmt(p) : String(p)}${actual}`);
  });
  return { uri, version: model.version?.version ?? null, predictions };
}

async function predict(ctx: CommandContext, uri: string, datasetName: string, rows = 5) {
  const table = await ctx.registry.datasets.load(datasetName);
  return predictRecords(ctx, uri, headRecords(table, rows));
}

/** The first `limit` data rows of CSV text (all when omitted), as CSV text again. */
function firstRows(text: string, limit: number): string {
  const lines = text.split(/\r?\n/);
  return lines.slice(0, limit + 1).join('\n');
}

export const commands = {
  async quickstart(ctx: CommandContext) {
    const t0 = performance.now();
    ctx.print(`modelreg quickstart — ${ctx.describe}`);
    const trained = await train(ctx, true);
    const name = trained.version!.name;
    const promoted = await ctx.registry.transitionStage(name, trained.version!.version, 'production', {
      archiveExisting: true,
      comment: 'quickstart promotion',
    });
    ctx.print(`promote   ${name} v${promoted.version} -> ${promoted.stage} (others archived)`);
    const predicted = await predict(ctx, formatModelUri(name, 'production'), trained.dataset.name);
    const history = await ctx.registry.getStageHistory(name);
    ctx.print(
      `history   ${history.length} moves; last: v${history.at(-1)?.version} ${history.at(-1)?.fromStage} -> ${history.at(-1)?.toStage} by ${history.at(-1)?.actor}`,
    );
    ctx.print(`done in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    return {
      dataset: trained.dataset,
      runId: trained.run.id,
      metrics: trained.metrics,
      version: promoted,
      predictions: predicted.predictions,
    };
  },
  async train(ctx: CommandContext) {
    const r = await train(ctx, ctx.options.register ?? false);
    return { runId: r.run.id, metrics: r.metrics, version: r.version };
  },
  async register(ctx: CommandContext) {
    if (!ctx.options.run)
      throw new RegistryError('INVALID_ARGUMENT', 'register needs --run <id>', { where: 'cli' });
    const version = await ctx.registry.registerModel(ctx.options.name ?? 'energy_load', {
      runId: ctx.options.run,
    });
    ctx.print(`version   ${version.name} v${version.version} (stage ${version.stage})`);
    return version;
  },
  async promote(ctx: CommandContext) {
    const name = ctx.options.name ?? 'energy_load';
    const version = positiveInt(ctx.options.version, 'version');
    const moved = await ctx.registry.transitionStage(name, version, ctx.options.stage ?? 'production', {
      archiveExisting: true,
    });
    ctx.print(`promote   ${name} v${moved.version} -> ${moved.stage}`);
    return moved;
  },
  async predict(ctx: CommandContext) {
    const uri = ctx.options.model ?? formatModelUri(ctx.options.name ?? 'energy_load', 'production');
    // The file is read here, not uploaded: predicting writes nothing to the registry. Without
    // --data the bundled sample is a demo: its first 10 rows.
    const file = await readFile(ctx.options.data ?? sampleCsv, 'utf8');
    const csv = ctx.options.data ? file : firstRows(file, 10);
    const records = readCsvRecords(csv, { label: ctx.options.data ?? 'sample' });
    return predictRecords(ctx, uri, records, { csv });
  },
  async list(ctx: CommandContext) {
    const datasets = await ctx.registry.datasets.list();
    for (const d of datasets)
      ctx.print(`dataset   ${d.name} v${d.version}: ${d.rows} rows × ${d.columns.length} columns`);
    const models = await ctx.registry.listModels();
    const out = [];
    for (const m of models) {
      const versions = await ctx.registry.listVersions(m.name);
      const aliases = Object.entries(m.aliases)
        .map(([a, v]) => `@${a}=v${v}`)
        .join(' ');
      ctx.print(
        `model     ${m.name}: ${versions.map((v) => `v${v.version}[${v.stage}]`).join(' ')} ${aliases}`,
      );
      out.push({ model: m, versions });
    }
    if (datasets.length === 0 && models.length === 0)
      ctx.print('the registry is empty — try: npm run quickstart');
    return { datasets, models: out };
  },
};
