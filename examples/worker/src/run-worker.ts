import { once } from 'node:events';
import type { FSWatcher } from 'node:fs';
import { createReadStream, createWriteStream, watch } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { predictWhenServing } from '@modelreg/bus-nats';
import type { LiveModel, ModelRegistry, WatchOptions } from '@modelreg/core';
import { isRegistryError, parseModelUri } from '@modelreg/core';
import type { BadLine, Job, JobId } from './jobs.js';
import { parseJobLine } from './jobs.js';

/** One output line. Success: `prediction` (record jobs) or `predictions` (batch jobs); failure: `error`. */
export type JobResult = {
  id?: JobId;
  /** 1-based line of the job in its input. */
  line: number;
  /** The registered model name. */
  model: string;
} & (
  | { prediction: unknown; version: number | null; latencyMs: number }
  | { predictions: unknown[]; version: number | null; latencyMs: number }
  | { error: { code: string; message: string } }
);

/** A structured log entry (hot swaps, watch errors, files done); the CLI prints them as JSON on stderr. */
export type LogEntry = { event: string } & Record<string, unknown>;

export interface WorkerOptions {
  registry: ModelRegistry;
  /** What to serve, e.g. `models:/iris/production`; followed as its stage or alias moves. */
  uri: string;
  log?: (entry: LogEntry) => void;
  /** While no version serves the URI (nothing in production yet), jobs wait; re-checked this often. Default 1000. */
  waitRetryMs?: number;
}

export interface Summary {
  jobs: number;
  ok: number;
  failed: number;
  /** True when the signal aborted while a job waited for a version: that job has no result. */
  interrupted?: boolean;
}

/** The `registry.watch` callbacks that log swaps and failed re-checks (shared with the NATS mode). */
export function watchLogs(log: (entry: LogEntry) => void): Pick<WatchOptions, 'onSwap' | 'onError'> {
  return {
    onSwap: (e) =>
      log({
        event: e.from ? 'model.swapped' : 'model.loaded',
        uri: e.uri,
        from: e.from?.version ?? null,
        to: e.to.version,
        digest: e.digest,
      }),
    onError: (e) =>
      log({
        event: 'model.watch_error',
        uri: e.uri,
        phase: e.phase,
        serving: e.serving?.version ?? null,
        error: e.error instanceof Error ? e.error.message : String(e.error),
      }),
  };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;

async function writeLine(out: Writable, value: unknown): Promise<void> {
  if (!out.write(`${JSON.stringify(value)}\n`)) await once(out, 'drain');
}

/** Reads NDJSON jobs, predicts each with the version the URI points at now, writes NDJSON results. */
export class PredictionWorker {
  readonly live: LiveModel;
  readonly uri: string;
  private readonly modelName: string;
  private readonly log: (entry: LogEntry) => void;
  private readonly registry: ModelRegistry;
  private readonly waitRetryMs: number;

  constructor(options: WorkerOptions) {
    this.uri = options.uri;
    this.registry = options.registry;
    this.waitRetryMs = options.waitRetryMs ?? 1000;
    const parsed = parseModelUri(options.uri);
    this.modelName = parsed.kind === 'model' ? parsed.name : options.uri;
    this.log = options.log ?? (() => undefined);
    this.live = options.registry.watch(options.uri, watchLogs(this.log));
  }

  /**
   * Runs one parsed line; never throws: failures become error results. While no version serves the
   * URI the job waits; `null` when `signal` aborted that wait (the job was not done).
   */
  async runJob(job: Job | BadLine, signal?: AbortSignal): Promise<JobResult | null> {
    const head = { ...(job.id !== undefined ? { id: job.id } : {}), line: job.line, model: this.modelName };
    if (job.kind === 'invalid') return { ...head, error: { code: 'INVALID_ARGUMENT', message: job.error } };
    const t0 = performance.now();
    let waited = false;
    try {
      const rows = job.kind === 'record' ? [job.row] : job.rows;
      const { predictions, version } = await predictWhenServing(
        this.registry,
        this.live,
        rows as Parameters<LiveModel['predict']>[0],
        {
          retryMs: this.waitRetryMs,
          ...(signal ? { signal } : {}),
          onWait: (attempt) => {
            waited = true;
            if (attempt === 1) this.log({ event: 'model.waiting', uri: this.uri, line: job.line });
          },
        },
      );
      const latencyMs = round(performance.now() - t0);
      const v = version?.version ?? null;
      return job.kind === 'record'
        ? { ...head, prediction: predictions[0], version: v, latencyMs }
        : { ...head, predictions, version: v, latencyMs };
    } catch (e) {
      if (waited && signal?.aborted) return null;
      const code = isRegistryError(e) ? e.code : 'INTERNAL';
      return { ...head, error: { code, message: e instanceof Error ? e.message : String(e) } };
    }
  }

  /**
   * Processes `input` line by line, in order, until it ends or `signal` aborts (the job in hand
   * finishes, unless it waits for a version; the summary then says `interrupted`). `stopWaiting` (default `signal`) alone ends such a wait
   * without stopping the reading otherwise.
   */
  async processStream(
    input: Readable,
    output: Writable,
    signal?: AbortSignal,
    stopWaiting: AbortSignal | undefined = signal,
  ): Promise<Summary> {
    const summary: Summary = { jobs: 0, ok: 0, failed: 0 };
    // An abort before the input's end leaves lines unread: the summary says `interrupted` then too.
    if (signal?.aborted) return { ...summary, interrupted: true };
    const lines = createInterface({ input, crlfDelay: Infinity });
    const stop = () => {
      summary.interrupted = true;
      lines.close();
    };
    signal?.addEventListener('abort', stop, { once: true });
    let n = 0;
    try {
      for await (const text of lines) {
        if (signal?.aborted) break;
        const job = parseJobLine(text, ++n);
        if (!job) continue;
        const result = await this.runJob(job, stopWaiting);
        if (!result) {
          summary.interrupted = true;
          break;
        }
        summary.jobs++;
        if ('error' in result) summary.failed++;
        else summary.ok++;
        await writeLine(output, result);
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      lines.close();
    }
    return summary;
  }

  /**
   * Processes a file into `outPath` (written as `<outPath>.partial`, renamed when complete). When
   * `signal` aborts before the file is read to its end (between jobs, or while a job waits for a
   * version), the partial output is removed and the summary says `interrupted`: the file is to be
   * processed again.
   */
  async processFile(
    inPath: string,
    outPath: string,
    signal?: AbortSignal,
    stopWaiting: AbortSignal | undefined = signal,
  ): Promise<Summary> {
    if (signal?.aborted) return { jobs: 0, ok: 0, failed: 0, interrupted: true };
    const partial = `${outPath}.partial`;
    const out = createWriteStream(partial);
    let summary: Summary;
    try {
      summary = await this.processStream(createReadStream(inPath), out, signal, stopWaiting);
    } finally {
      out.end();
      await once(out, 'finish');
    }
    if (summary.interrupted) await rm(partial, { force: true });
    else await rename(partial, outPath);
    return summary;
  }

  /**
   * Watches `dir` until `signal` aborts: each new `*.ndjson` file (not `*.out.ndjson`, not hidden)
   * is processed once into `<name>.out.ndjson` next to it, then moved to `dir/done/`. Files are
   * picked up by name, so writers should create them elsewhere (or under a hidden name) and
   * rename them in. On abort the file in hand is finished first, unless its jobs wait for a version
   * (nothing serves the URI): then it stays in `dir`, unprocessed, for the next start.
   */
  async watchDir(dir: string, options: { signal: AbortSignal; pollMs?: number }): Promise<void> {
    const { signal } = options;
    const done = join(dir, 'done');
    await mkdir(done, { recursive: true });
    const seen = new Set<string>();
    let wake: (() => void) | undefined;
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dir, () => wake?.());
      watcher.on('error', () => undefined);
    } catch {
      watcher = undefined; // polling alone still works
    }
    const onAbort = () => wake?.();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signal.aborted) {
        const names = (await readdir(dir, { withFileTypes: true }))
          .filter((e) => e.isFile() && e.name.endsWith('.ndjson') && !e.name.endsWith('.out.ndjson'))
          .map((e) => e.name)
          .filter((name) => !name.startsWith('.') && !seen.has(name))
          .sort();
        for (const name of names) {
          if (signal.aborted) break;
          seen.add(name);
          const file = join(dir, name);
          const out = join(dir, `${basename(name, '.ndjson')}.out.ndjson`);
          const t0 = performance.now();
          try {
            // The signal only ends a wait for a version (then the file is left for the next start);
            // otherwise the file in hand is finished on shutdown, so no file is half done.
            const summary = await this.processFile(file, out, undefined, signal);
            if (summary.interrupted) {
              this.log({ event: 'file.interrupted', file: name });
              break;
            }
            await rename(file, join(done, name));
            this.log({
              event: 'file.done',
              file: name,
              output: basename(out),
              ...summary,
              ms: round(performance.now() - t0),
            });
          } catch (e) {
            this.log({ event: 'file.failed', file: name, error: e instanceof Error ? e.message : String(e) });
          }
        }
        if (signal.aborted) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, options.pollMs ?? 500);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      watcher?.close();
    }
  }

  /** Stops following the URI (the registry is the caller's to close). */
  close(): Promise<void> {
    return this.live.close();
  }
}
