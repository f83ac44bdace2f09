import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DatasetCatalog } from '../../src/datasets/dataset-catalog.js';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';

// heapUsed counts garbage not yet collected (the generator alone leaves ~30 MB of it), so live heap
// is sampled after a forced full GC; `--expose-gc` can be switched on at runtime for a fresh context.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const liveHeap = (): number => {
  gc();
  return process.memoryUsage().heapUsed;
};

const TARGET_BYTES = 50 * 1024 * 1024;
const COLORS = ['red', 'green', 'blue', 'cyan', 'magenta'];

/** Generates a ~50 MB CSV in ~256 KiB chunks, sampling live heap every 16 chunks while the upload consumes them. */
function generate(samples: number[]): {
  body: AsyncGenerator<Uint8Array>;
  stats: { bytes: number; rows: number };
} {
  const stats = { bytes: 0, rows: 0 };
  async function* body(): AsyncGenerator<Uint8Array> {
    const header = 'id,amount,count,flag,day,color,comment,batch\n';
    stats.bytes += header.length;
    yield Buffer.from(header);
    while (stats.bytes < TARGET_BYTES) {
      const lines: string[] = [];
      for (let i = 0; i < 2500; i++) {
        const n = stats.rows++;
        const day = String(1 + (n % 28)).padStart(2, '0');
        const comment =
          n % 1000 === 0 ? `"note, with ""quotes""\nand a newline ${n}"` : `row ${n} of the generated file`;
        lines.push(
          `${n},${((n * 7919) % 100000) / 100},${n % 97},${n % 2 === 0 ? 'true' : 'false'},2024-01-${day},${COLORS[n % 5]},${comment},batch-${Math.floor(n / 80)}-of-the-run\n`,
        );
      }
      const chunk = Buffer.from(lines.join(''));
      stats.bytes += chunk.byteLength;
      if (samples.length * 16 <= stats.rows / 2500) samples.push(liveHeap());
      yield chunk;
    }
  }
  return { body: body(), stats };
}

describe('streaming upload', () => {
  it('a ~50 MB CSV streams through with heap use well below its size', async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), 'modelreg-datasets-stream-'));
    try {
      const metadata = createMemoryMetadataStore();
      const artifacts = createMemoryArtifactStore();
      const catalog = new DatasetCatalog({ metadata, artifacts, tmpDir: spoolDir });
      const samples: number[] = [];
      const { body, stats } = generate(samples);
      const before = liveHeap();

      const ds = await catalog.upload('big.csv', body);

      const peak = Math.max(...samples, liveHeap()) - before;
      expect(ds).toMatchObject({
        name: 'big',
        version: 1,
        rows: stats.rows,
        size: stats.bytes,
        created: true,
      });
      expect(ds.columns.map((c) => [c.name, c.type])).toEqual([
        ['id', 'integer'],
        ['amount', 'number'],
        ['count', 'integer'],
        ['flag', 'boolean'],
        ['day', 'datetime'],
        ['color', 'categorical'],
        ['comment', 'string'],
        ['batch', 'string'],
      ]);
      // New distinct values keep arriving to the end: kept values must not pin the text they were cut from.
      expect(ds.columns[7]?.distinctCount).toBe(Math.ceil(stats.rows / 80));
      expect(ds.columns[0]?.distinctCount).toBeGreaterThan(stats.rows * 0.95);
      expect(ds.columns[5]?.categories).toEqual(['blue', 'cyan', 'green', 'magenta', 'red']);
      expect((await artifacts.head(ds.key))?.size).toBe(stats.bytes);
      expect(await readdir(spoolDir)).toEqual([]);
      console.log(
        `streamed ${(stats.bytes / 1e6).toFixed(1)} MB, ${stats.rows} rows; peak live heap delta ${(peak / 1e6).toFixed(1)} MB`,
      );
      expect(peak).toBeLessThan(stats.bytes * 0.4);
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  }, 60_000);
});
