// Training in a child process (`trainIsolation: 'process'`): the train worker's module runs as the
// main thread of a process of its own, forked with IPC. The process has its own memory map, heap and
// collector, so a training's page faults, its large allocations and onnxruntime's sessions of
// gigabytes never contend with the host's event loop inside one process, as a worker thread does.
//
// Large bytes never cross the IPC channel as one message: Node reads a message whole and copies it
// twice (concatenating the pipe's reads, then deserializing), which would hold the receiving thread
// for a tenth of a second per 100 MB. They go as a `bytes` header with the length, then parts of at
// most PART_BYTES, each copied into a buffer allocated once; the message that uses them follows.
//
// A result's large bytes (a model file of FILE_BYTES or more) come back through a file instead: the
// train process writes it into a directory the host made for it. Through the channel, every turn of
// the host's event loop took what the pipe held (libuv reads up to 32 × 64 KiB a turn), copied and
// deserialized it and faulted in the pages it filled: 100 MB cost the receiving thread 0.8 s of CPU
// in turns of up to 30–40 ms on a 2-core VM, whatever the part size.
//
// The host never holds such a file's bytes whole either: it opens the file and unlinks it at once
// ({@link SpooledBytes}), and the store reads it slice by slice. Read into one buffer (0.33 s on a
// pool thread), a model of a hundred megabytes or more was external memory that made V8 start an
// incremental marking and finish it with a full mark-compact of the host's heap: a 15 ms pause
// beside scavenges of 7 ms, and /health answers of 41-62 ms in `bench/serving-under-training.mjs`
// while the host served predictions. Slices die young and leave with the next scavenge.
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BODY_SLICE_BYTES } from '../stores/body.js';

/** The environment variable that tells the train worker's module it runs as a train process. */
export const TRAIN_PROCESS_ENV = 'MODELREG_TRAIN_PROCESS';

/** What a train process gets in {@link TRAIN_PROCESS_ENV}, as JSON. */
export interface TrainProcessData {
  forestWorkerUrl: string;
  /** The module itself, for the ONNX helper thread the process starts beside its main thread. */
  trainWorkerUrl: string;
  /** Where the process writes a result's large bytes for the host (made and removed by the host). */
  bytesDir?: string;
}

/** Bytes per part of a large byte array sent over IPC. */
export const PART_BYTES = 1 << 20;

/** Byte arrays of at least this size go from a train process to its host through a file. */
export const FILE_BYTES = 4 << 20;

/** The messages that carry large bytes, before the message that refers to them. */
export type BytesMessage = { type: 'bytes'; length: number } | { type: 'part'; bytes: Uint8Array };

/** Bytes a train process wrote to `name` in its `bytesDir`, in the place of a `bytes` header and parts. */
export interface BytesFileMessage {
  type: 'bytes-file';
  name: string;
  length: number;
}

let filesWritten = 0;

/**
 * Sends a result's `bytes` from a train process: written to a file of `dir` when they are at least
 * `fileBytes` long (the host reads it), else, or when the file cannot be written, as parts.
 */
export function sendResultBytes(
  send: (message: BytesMessage | BytesFileMessage) => void,
  bytes: Uint8Array,
  dir: string | undefined,
  fileBytes = FILE_BYTES,
): void {
  if (dir !== undefined && bytes.byteLength >= fileBytes) {
    const name = `${process.pid}-${filesWritten++}.bin`;
    try {
      writeInSlices(join(dir, name), bytes);
      send({ type: 'bytes-file', name, length: bytes.byteLength });
      return;
    } catch {
      // A full disk, say: the channel still works.
    }
  }
  sendBytes(send, bytes, undefined, () => undefined);
}

/**
 * Writes `bytes` to a new file at `path`, PART_BYTES per system call. As one call, a 148 MB model file
 * spent 0.47 s in the kernel (strace, on a 2-core VM whose kernel is not preemptible), and slow
 * `/health` answers of `bench/serving-under-training.mjs` fell in it; in slices each call is a few
 * milliseconds, and the scheduler can switch at the end of every one.
 */
function writeInSlices(path: string, bytes: Uint8Array): void {
  const fd = openSync(path, 'wx');
  try {
    for (let at = 0; at < bytes.byteLength;) {
      at += writeSync(fd, bytes, at, Math.min(PART_BYTES, bytes.byteLength - at));
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * A result's bytes that a train process wrote to a file, held by an open descriptor: the file itself
 * is unlinked as soon as it is opened, so nothing is left on disk whatever becomes of the host (the
 * kernel frees the data when the descriptor closes, at the latest when the process ends).
 * {@link slices} reads it in new buffers of at most `size` bytes; {@link release} closes it.
 */
export class SpooledBytes {
  private closed = false;

  constructor(
    private readonly handle: FileHandle,
    readonly byteLength: number,
  ) {}

  /** The bytes from the start, each slice a new buffer read with the thread pool. */
  async *slices(size = BODY_SLICE_BYTES): AsyncIterable<Uint8Array> {
    for (let at = 0; at < this.byteLength;) {
      if (this.closed) throw new Error('[modelreg] [train] a spooled result was read after its release');
      const slice = Buffer.allocUnsafe(Math.min(size, this.byteLength - at));
      const { bytesRead } = await this.handle.read(slice, 0, slice.byteLength, at);
      if (bytesRead !== slice.byteLength)
        throw new Error(
          `[modelreg] [train] a spooled result ended at ${at + bytesRead} of ${this.byteLength} bytes`,
        );
      at += bytesRead;
      yield slice;
    }
  }

  /** Closes the descriptor (idempotent); the data goes with it. */
  async release(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * Opens a file of {@link BytesFileMessage} in `dir` and removes it from there at once; checks its name
 * and length. The bytes stay readable through the returned {@link SpooledBytes} until it is released.
 */
export async function openBytesFile(dir: string, message: BytesFileMessage): Promise<SpooledBytes> {
  if (!/^\d+-\d+\.bin$/.test(message.name))
    throw new Error(`[modelreg] [train] a bytes file with an unexpected name: ${message.name}`);
  const path = join(dir, message.name);
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    if (size !== message.length)
      throw new Error(`[modelreg] [train] ${message.name} holds ${size} bytes, not ${message.length}`);
    const spooled = new SpooledBytes(handle, size);
    handle = undefined;
    return spooled;
  } finally {
    await handle?.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
  }
}

/** Releases the {@link SpooledBytes} among `values` (the others are plain bytes). */
export async function releaseSpooled(...values: unknown[]): Promise<void> {
  await Promise.all(values.map((v) => (v instanceof SpooledBytes ? v.release() : undefined)));
}

/**
 * Sends `bytes` as a header and parts through `send`. `pace` runs the next part: synchronously in a
 * train process (its main thread has nothing else to do), on the next turn of the event loop in the
 * host. Calls `then` once every part was handed to `send`.
 */
export function sendBytes(
  send: (message: BytesMessage) => void,
  bytes: Uint8Array,
  pace: ((next: () => void) => void) | undefined,
  then: () => void,
): void {
  send({ type: 'bytes', length: bytes.byteLength });
  let at = 0;
  const next = (): void => {
    while (at < bytes.byteLength) {
      const end = Math.min(at + PART_BYTES, bytes.byteLength);
      send({ type: 'part', bytes: bytes.subarray(at, end) });
      at = end;
      if (pace && at < bytes.byteLength) {
        pace(next);
        return;
      }
    }
    then();
  };
  next();
}

/** Puts received parts together: each `bytes` header allocates one array, its parts fill it. */
export class BytesAssembler {
  private readonly done: (Uint8Array<ArrayBuffer> | SpooledBytes)[] = [];
  private current: { bytes: Uint8Array<ArrayBuffer>; at: number } | undefined;

  /** Takes a message if it is one of {@link BytesMessage}; returns whether it was. */
  accept(message: BytesMessage | { type: string }): boolean {
    if (message.type === 'bytes') {
      const { length } = message as unknown as { length: number };
      this.current = { bytes: new Uint8Array(length), at: 0 };
      if (length === 0) this.finish();
      return true;
    }
    if (message.type !== 'part') return false;
    const { bytes } = message as unknown as { bytes: Uint8Array };
    const current = this.current;
    if (!current || current.at + bytes.byteLength > current.bytes.byteLength)
      throw new Error('[modelreg] [train] a part of bytes came without room for it');
    current.bytes.set(bytes, current.at);
    current.at += bytes.byteLength;
    if (current.at === current.bytes.byteLength) this.finish();
    return true;
  }

  private finish(): void {
    this.done.push(this.current!.bytes);
    this.current = undefined;
  }

  /** Takes bytes that came whole (from a file). */
  add(bytes: Uint8Array<ArrayBuffer> | SpooledBytes): void {
    this.done.push(bytes);
  }

  /** The oldest complete bytes (in the order they were sent). */
  take(): Uint8Array<ArrayBuffer> | SpooledBytes {
    const bytes = this.done.shift();
    if (!bytes) throw new Error('[modelreg] [train] a message refers to bytes that did not come');
    return bytes;
  }

  /** Drops what no message took; spooled bytes are released. */
  async clear(): Promise<void> {
    this.current = undefined;
    await releaseSpooled(...this.done.splice(0));
  }
}

/**
 * The environment of a train process: the host's, its data, and on Linux glibc's malloc set to ask for
 * transparent huge pages (`glibc.malloc.hugetlb=1`, glibc 2.35+; ignored elsewhere) unless the host
 * chose that tunable itself. onnxruntime's session for a parity check allocates some 30 bytes per
 * byte of the model: with 4 KB pages, building a 2M-node forest's session took 194,000 page faults
 * and 3.5 s on a 2-core VM; with huge pages, 19,000–21,000 and 1.3–2.1 s.
 */
export function trainProcessEnv(
  data: TrainProcessData,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env, [TRAIN_PROCESS_ENV]: JSON.stringify(data) };
  const tunables = env['GLIBC_TUNABLES'];
  if (platform === 'linux' && !tunables?.includes('glibc.malloc.hugetlb'))
    out['GLIBC_TUNABLES'] = tunables ? `${tunables}:glibc.malloc.hugetlb=1` : 'glibc.malloc.hugetlb=1';
  return out;
}

/** A new directory for one train process's bytes files, or `undefined` where none can be made. */
function makeBytesDir(): string | undefined {
  try {
    return mkdtempSync(join(tmpdir(), 'modelreg-train-'));
  } catch {
    return undefined;
  }
}

/** Node flags a train process keeps from the host: heap sizes (a large training needs the room). */
const KEPT_FLAGS = /^--(max-old-space-size|max-semi-space-size|stack-size)(=|$)/;

/**
 * A train process seen through the part of the `Worker` interface the train runner uses:
 * `postMessage`, `message`/`error`/`exit` events, `terminate`, `ref`/`unref`. Messages are the
 * train worker's; large bytes inside them are sent and received as parts or files (see the file's
 * comment). Events keep the order of what the process sent: a message after a file waits for its read.
 */
export class TrainProcess extends EventEmitter {
  private readonly child: ChildProcess;
  private readonly received = new BytesAssembler();
  private readonly bytesDir: string | undefined;
  private inbound: Promise<void> = Promise.resolve();
  private exited = false;
  private killed = false;

  constructor(moduleUrl: URL, data: TrainProcessData) {
    super();
    // Without a directory (a read-only temp dir, say) every result's bytes come through the channel.
    this.bytesDir = makeBytesDir();
    const bytesDir = this.bytesDir;
    this.child = fork(fileURLToPath(moduleUrl), [], {
      serialization: 'advanced',
      execArgv: process.execArgv.filter((flag) => KEPT_FLAGS.test(flag)),
      env: trainProcessEnv(bytesDir ? { ...data, bytesDir } : data),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: { type: string }) => {
      if (message.type === 'bytes-file' && bytesDir) {
        const opened = openBytesFile(bytesDir, message as BytesFileMessage);
        opened.catch(() => undefined); // reported in its turn, below
        this.inTurn(async () => this.received.add(await opened));
        return;
      }
      this.inTurn(() => {
        if (this.received.accept(message)) return;
        this.emit('message', restoreBytes(message, this.received));
      });
    });
    this.child.on('error', (e) => {
      this.inTurn(() => {
        this.emit('error', e);
      });
    });
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.inTurn(async () => {
        // Spooled bytes no message took are closed first: where an open file cannot be removed
        // (Windows), it then can. A directory left behind is not the training's failure.
        await this.received.clear();
        if (bytesDir) {
          try {
            rmSync(bytesDir, { recursive: true, force: true, maxRetries: 3 });
          } catch {
            // left in the temp folder
          }
        }
        // Killed from outside (the kernel's out-of-memory killer, say): the training's error says so.
        if (signal && !this.killed)
          this.emit('error', new Error(`[modelreg] [train] the train process was killed by ${signal}`));
        this.emit('exit', code ?? 1);
      });
    });
  }

  /** Runs `step` after every step before it; a step that fails ends the process, as an error. */
  private inTurn(step: () => void | Promise<void>): void {
    this.inbound = this.inbound.then(step).catch((e: unknown) => {
      this.emit('error', e);
      void this.terminate();
    });
  }

  /**
   * Sends a message to the process. A `start` message's dataset bytes go first as parts, one part per
   * turn of the event loop. Throws what serializing throws (a value that cannot be cloned).
   */
  postMessage(
    message: { type: string; input?: { source: Record<string, unknown> } },
    _transfer?: unknown,
  ): void {
    const source = message.input?.source;
    const bytes = source?.kind === 'catalog' ? source.bytes : source?.kind === 'csv' ? source.csv : undefined;
    if (!(bytes instanceof Uint8Array)) {
      this.send(message);
      return;
    }
    const key = source!.kind === 'catalog' ? 'bytes' : 'csv';
    const rest = { ...message, input: { ...message.input, source: { ...source, [key]: PARTS } } };
    // The channel serializes synchronously, and would throw for data that cannot be cloned only
    // after the parts were sent: a clone of the message without its bytes finds that first.
    structuredClone(rest);
    sendBytes(
      (m) => this.send(m),
      bytes,
      (next) => setImmediate(() => !this.exited && next()),
      () => this.send(rest),
    );
  }

  private send(message: unknown): void {
    if (!this.exited && this.child.connected) this.child.send(message as never);
  }

  terminate(): Promise<number> {
    this.killed = true;
    if (!this.exited) this.child.kill('SIGKILL');
    return Promise.resolve(0);
  }

  ref(): void {
    this.child.ref();
    (this.child.channel as { ref?: () => void } | undefined)?.ref?.();
  }

  unref(): void {
    this.child.unref();
    (this.child.channel as { unref?: () => void } | undefined)?.unref?.();
  }
}

/** Stands for bytes sent as parts before the message that holds it. */
export const PARTS = '\0modelreg:parts';

/** Puts the parts back where a message (a `done` or `start`) holds {@link PARTS}, in order. */
export function restoreBytes<M>(message: M, received: BytesAssembler): M {
  const m = message as {
    type: string;
    result?: { nativeBytes: unknown; onnx: { bytes: unknown } | null };
    input?: { source: Record<string, unknown> };
  };
  if (m.type === 'done' && m.result) {
    if (m.result.nativeBytes === PARTS) m.result.nativeBytes = received.take();
    if (m.result.onnx?.bytes === PARTS) m.result.onnx.bytes = received.take();
  }
  const source = m.input?.source;
  if (source?.bytes === PARTS) source.bytes = received.take();
  if (source?.csv === PARTS) source.csv = received.take();
  return message;
}
