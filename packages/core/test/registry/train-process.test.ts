// `trainIsolation: 'process'`: built-in trainers run in a child process (train-process.ts). The same
// training gives the same model as on a worker thread; large bytes cross the IPC channel in parts, a
// result's large bytes come back through a file; a train process runs at a lower priority (TRAINING_NICE); one killed from outside fails its training, not the host.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import {
  BytesAssembler,
  FILE_BYTES,
  PART_BYTES,
  openBytesFile,
  sendBytes,
  sendResultBytes,
  TRAIN_PROCESS_ENV,
  trainProcessEnv,
} from '../../src/registry/train-process.js';
import type { BytesFileMessage, BytesMessage, SpooledBytes } from '../../src/registry/train-process.js';
import { TRAINING_NICE } from '../../src/training/native/thread-priority.js';
import { createRandom } from '../../src/training/random.js';
import { BODY_SLICE_BYTES } from '../../src/stores/body.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

/** Fields of a /proc stat file after the command name (field 3 onwards, at index 0). */
const statFields = (path: string): string[] => {
  const stat = readFileSync(path, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
};

/**
 * The train processes of this process: its children whose command line runs the train worker, with
 * the nice value of their main thread and of each of their threads.
 */
function trainProcesses(): { pid: number; nice: number; threadNices: number[] }[] {
  const out: { pid: number; nice: number; threadNices: number[] }[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const fields = statFields(`/proc/${pid}/stat`);
      const ppid = Number(fields[4 - 3]);
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (ppid !== process.pid || !cmdline.includes('train-worker')) continue;
      const threadNices = readdirSync(`/proc/${pid}/task`).map((tid) =>
        Number(statFields(`/proc/${pid}/task/${tid}/stat`)[19 - 3]),
      );
      out.push({ pid: Number(pid), nice: Number(fields[19 - 3]), threadNices });
    } catch {
      // the process ended between the listing and the read
    }
  }
  return out;
}

/** The directory a train process writes its bytes files to (from its environment). */
function bytesDirOf(pid: number): string {
  const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  const data = environ
    .find((v) => v.startsWith(`${TRAIN_PROCESS_ENV}=`))!
    .slice(TRAIN_PROCESS_ENV.length + 1);
  const dir = (JSON.parse(data) as { bytesDir?: string }).bytesDir;
  if (!dir) throw new Error(`train process ${pid} has no bytes directory`);
  return dir;
}

function regressionRows(n: number, seed: number): Record<string, number>[] {
  const random = createRandom(seed);
  return Array.from({ length: n }, () => {
    const a = random.next();
    const b = random.next();
    const c = random.next();
    return { a, b, c, y: 10 * Math.sin(Math.PI * a * b) + 5 * c + random.next() };
  });
}

const toCsv = (rows: Record<string, number>[]): string =>
  [Object.keys(rows[0]!).join(','), ...rows.map((r) => Object.values(r).join(','))].join('\n');

describe('large bytes cross the IPC channel as a header and parts', () => {
  it('puts several arrays back together, in order, whatever their size', () => {
    const big = new Uint8Array(2 * PART_BYTES + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const arrays = [new Uint8Array(0), Uint8Array.from({ length: 10 }, (_, i) => i), big];
    const messages: BytesMessage[] = [];
    let finished = 0;
    for (const bytes of arrays)
      sendBytes(
        (m) => messages.push(m),
        bytes,
        undefined,
        () => finished++,
      );
    expect(finished).toBe(3);
    // No part is larger than PART_BYTES: the biggest array went as three.
    const parts = messages.filter((m) => m.type === 'part');
    expect(parts.length).toBe(4);
    expect(Math.max(...parts.map((m) => (m.type === 'part' ? m.bytes.byteLength : 0)))).toBe(PART_BYTES);
    const assembler = new BytesAssembler();
    for (const m of messages) expect(assembler.accept(structuredClone(m))).toBe(true);
    expect(assembler.accept({ type: 'progress' })).toBe(false);
    for (const bytes of arrays) expect(Buffer.compare(assembler.take() as Uint8Array, bytes)).toBe(0);
    expect(() => assembler.take()).toThrow(/did not come/);
  });

  it('refuses a part that overflows its array, and one with no header', () => {
    const assembler = new BytesAssembler();
    expect(() => assembler.accept({ type: 'part', bytes: new Uint8Array(1) } as BytesMessage)).toThrow(
      /without room/,
    );
    assembler.accept({ type: 'bytes', length: 2 });
    expect(() => assembler.accept({ type: 'part', bytes: new Uint8Array(3) } as BytesMessage)).toThrow(
      /without room/,
    );
  });

  it('paces the parts when asked, and finishes after the last', () => {
    const sent: BytesMessage[] = [];
    const later: (() => void)[] = [];
    let finished = false;
    sendBytes(
      (m) => sent.push(m),
      new Uint8Array(3 * PART_BYTES),
      (next) => later.push(next),
      () => (finished = true),
    );
    expect(sent.length).toBe(2); // the header and the first part, then a turn
    while (later.length > 0) later.shift()!();
    expect(sent.length).toBe(4);
    expect(finished).toBe(true);
  });
});

describe("a result's large bytes come back through a file", () => {
  const dirs: string[] = [];
  const newDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'modelreg-test-bytes-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** Every slice of `spooled`, joined, and the slice sizes. */
  async function readAll(spooled: SpooledBytes, size?: number): Promise<{ bytes: Buffer; sizes: number[] }> {
    const parts: Uint8Array[] = [];
    for await (const slice of spooled.slices(size)) parts.push(slice);
    return { bytes: Buffer.concat(parts), sizes: parts.map((p) => p.byteLength) };
  }

  it('writes bytes of FILE_BYTES or more to the directory; the host opens the file, unlinks it and reads it in slices', async () => {
    const dir = newDir();
    const bytes = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
    const sent: (BytesMessage | BytesFileMessage)[] = [];
    sendResultBytes((m) => sent.push(m), bytes, dir, 1000);
    expect(sent).toEqual([
      { type: 'bytes-file', name: expect.stringMatching(/^\d+-\d+\.bin$/), length: 3000 },
    ]);
    const message = sent[0] as BytesFileMessage;
    expect(readdirSync(dir)).toEqual([message.name]);
    const spooled = await openBytesFile(dir, message);
    // The file is gone once opened: nothing stays on disk, whatever becomes of the host.
    expect(readdirSync(dir)).toEqual([]);
    expect(spooled.byteLength).toBe(3000);
    const read = await readAll(spooled, 1024);
    expect(read.sizes).toEqual([1024, 1024, 952]);
    expect(Buffer.compare(read.bytes, bytes)).toBe(0);
    // Read again from the start (a store may be given the body twice), in the default slices.
    expect(Buffer.compare((await readAll(spooled)).bytes, bytes)).toBe(0);
    await spooled.release();
    await spooled.release(); // idempotent
    await expect(readAll(spooled)).rejects.toThrow(/after its release/);
    expect(FILE_BYTES).toBeGreaterThan(PART_BYTES);
    expect(BODY_SLICE_BYTES).toBeLessThan(FILE_BYTES);
  });

  it('an assembler that is cleared releases the spooled bytes no message took', async () => {
    const dir = newDir();
    const sent: (BytesMessage | BytesFileMessage)[] = [];
    sendResultBytes((m) => sent.push(m), new Uint8Array(2000), dir, 1000);
    const spooled = await openBytesFile(dir, sent[0] as BytesFileMessage);
    const assembler = new BytesAssembler();
    assembler.add(spooled);
    await assembler.clear();
    await expect(readAll(spooled)).rejects.toThrow(/after its release/);
    expect(() => assembler.take()).toThrow(/did not come/);
  });

  it('sends smaller bytes, and any bytes without a usable directory, as parts', () => {
    const bytes = new Uint8Array(3000);
    for (const [dir, fileBytes] of [
      [newDir(), 3001],
      [undefined, 1000],
      [join(tmpdir(), 'modelreg-test-no-such-dir', 'x'), 1000],
    ] as const) {
      const sent: (BytesMessage | BytesFileMessage)[] = [];
      sendResultBytes((m) => sent.push(m), bytes, dir, fileBytes);
      expect(sent.map((m) => m.type)).toEqual(['bytes', 'part']);
    }
  });

  it('refuses a file whose name or length is not what was announced, and removes it', async () => {
    const dir = newDir();
    await expect(
      openBytesFile(dir, { type: 'bytes-file', name: '../etc/passwd', length: 1 }),
    ).rejects.toThrow(/unexpected name/);
    writeFileSync(join(dir, '1-2.bin'), new Uint8Array(5));
    await expect(openBytesFile(dir, { type: 'bytes-file', name: '1-2.bin', length: 6 })).rejects.toThrow(
      /holds 5 bytes, not 6/,
    );
    expect(existsSync(join(dir, '1-2.bin'))).toBe(false);
  });
});

describe("a train process's environment", () => {
  const data = { forestWorkerUrl: 'file:///f.js', trainWorkerUrl: 'file:///t.js' };

  it('carries its data, and on Linux asks glibc for huge pages, after the tunables the host set', () => {
    const env = trainProcessEnv(data, { PATH: '/bin' }, 'linux');
    expect(JSON.parse(env[TRAIN_PROCESS_ENV]!)).toEqual(data);
    expect(env['PATH']).toBe('/bin');
    expect(env['GLIBC_TUNABLES']).toBe('glibc.malloc.hugetlb=1');
    expect(
      trainProcessEnv(data, { GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux')['GLIBC_TUNABLES'],
    ).toBe('glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1');
  });

  it("leaves a host's own choice of the tunable, and other platforms, alone", () => {
    expect(
      trainProcessEnv(data, { GLIBC_TUNABLES: 'glibc.malloc.hugetlb=0' }, 'linux')['GLIBC_TUNABLES'],
    ).toBe('glibc.malloc.hugetlb=0');
    expect(trainProcessEnv(data, {}, 'darwin')['GLIBC_TUNABLES']).toBeUndefined();
  });
});

describe.runIf(process.platform === 'linux')("trainIsolation: 'process'", () => {
  let inProcess: ModelRegistry;
  let inThread: ModelRegistry;
  const rows = regressionRows(3000, 11);
  const csv = new TextEncoder().encode(toCsv(rows));

  beforeAll(async () => {
    inProcess = await openMemoryRegistry({ trainIsolation: 'process' });
    inThread = await openMemoryRegistry({ trainIsolation: 'thread' });
    for (const registry of [inProcess, inThread]) await registry.datasets.upload('friedman.csv', csv);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([inProcess.close(), inThread.close()]);
  });

  it('trains the same model as a worker thread does, from the catalog, a CSV and inline records', async () => {
    const options = {
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 12, maxDepth: 8 } },
    };
    const sources = [{ dataset: 'friedman' }, { dataset: { csv } }, { dataset: { rows } }] as const;
    for (const source of sources) {
      const [a, b] = await Promise.all(
        [inProcess, inThread].map((registry, i) =>
          registry.train({ ...options, ...source, register: { name: `same_${i}` } }),
        ),
      );
      expect(a!.metrics).toEqual(b!.metrics);
      // Both formats came back whole: the versions load and give the same answers.
      for (const format of ['native', 'onnx'] as const) {
        const [ma, mb] = await Promise.all([
          inProcess.load(`models:/same_0/${a!.version!.version}`, { format }),
          inThread.load(`models:/same_1/${b!.version!.version}`, { format }),
        ]);
        const probe = rows.slice(0, 50).map(({ y: _y, ...x }) => x);
        expect(await ma.predict(probe)).toEqual(await mb.predict(probe));
      }
    }
  }, 120_000);

  it('a model of several megabytes comes back whole, through a file that is then removed', async () => {
    const options = {
      dataset: 'friedman',
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 120, maxDepth: 30, minSamplesLeaf: 1 } },
    };
    const [a, b] = await Promise.all(
      [inProcess, inThread].map((registry, i) =>
        registry.train({ ...options, register: { name: `big_${i}` } }),
      ),
    );
    const native = a!.version!.files.find((f) => f.path.endsWith('.native.json'));
    expect(native!.size).toBeGreaterThanOrEqual(FILE_BYTES);
    expect(a!.version!.files.map((f) => [f.path, f.sha256])).toEqual(
      b!.version!.files.map((f) => [f.path, f.sha256]),
    );
    // The train process's directory for such files is left empty (it is removed when the process ends).
    const left = readdirSync(tmpdir())
      .filter((d) => d.startsWith('modelreg-train-'))
      .flatMap((d) => readdirSync(join(tmpdir(), d)));
    expect(left).toEqual([]);
  }, 120_000);

  it('runs at the training priority (nice 10) as a whole, and is kept for the next training', async () => {
    let seen: ReturnType<typeof trainProcesses> = [];
    const train = () =>
      inProcess.train({
        dataset: 'friedman',
        target: 'y',
        model: { type: 'random-forest', params: { nEstimators: 40, maxDepth: 10 } },
        formats: ['native'],
        onProgress: (p) => {
          if (p.phase === 'fitting' && p.fraction > 0 && seen.length === 0) seen = trainProcesses();
        },
      });
    await train();
    expect(seen.length, JSON.stringify(seen)).toBe(1);
    expect(seen[0]!.nice).toBe(TRAINING_NICE);
    // Every thread, V8's platform workers started before the train worker's code ran included.
    expect(seen[0]!.threadNices.length).toBeGreaterThan(4);
    expect(new Set(seen[0]!.threadNices)).toEqual(new Set([TRAINING_NICE]));
    const environ = readFileSync(`/proc/${seen[0]!.pid}/environ`, 'utf8').split('\0');
    expect(environ.find((v) => v.startsWith('GLIBC_TUNABLES='))).toMatch(/glibc\.malloc\.hugetlb=/);
    const first = seen[0]!.pid;
    seen = [];
    await train();
    expect(seen.map((p) => p.pid)).toEqual([first]);
  }, 60_000);

  it('a train process killed from outside fails its training and leaves the registry as it was', async () => {
    const before = await snapshot(inProcess);
    let killed = false;
    const bytesDirs: string[] = [];
    const error = await inProcess
      .train({
        dataset: 'friedman',
        target: 'y',
        model: { type: 'random-forest', params: { nEstimators: 200 } },
        register: { name: 'never' },
        onProgress: (p) => {
          if (p.phase !== 'fitting' || p.fraction <= 0 || killed) return;
          killed = true;
          for (const { pid } of trainProcesses()) {
            bytesDirs.push(bytesDirOf(pid));
            process.kill(pid, 'SIGKILL');
          }
        },
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(killed).toBe(true);
    // The killed process's directory for bytes files went with it.
    expect(bytesDirs.length).toBe(1);
    expect(existsSync(bytesDirs[0]!)).toBe(false);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe('[modelreg] [train] the train process was killed by SIGKILL');
    expect(await snapshot(inProcess)).toEqual(before);
    // The next training gets a new process.
    const after = await inProcess.train({
      dataset: 'friedman',
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 3, maxDepth: 3 } },
    });
    expect(after.run.status).toBe('finished');
  }, 60_000);

  it('a bad value of the option is refused when the registry opens', async () => {
    const error = await openMemoryRegistry({ trainIsolation: 'fork' as 'process' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isRegistryError(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toContain('trainIsolation');
  });
});
