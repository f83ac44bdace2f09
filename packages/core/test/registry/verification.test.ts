import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import { verifyChunks } from '../../src/stores/body.js';
import { openMemoryRegistry } from './helpers.js';

const irisCsv = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));

async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => null,
    (e: unknown) => e,
  );
}

describe('load verifies MODEL.json and every file of the model folder, not only the one it serves', () => {
  let registry: ModelRegistry;

  beforeEach(async () => {
    registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', irisCsv);
    await registry.train({
      dataset: 'iris',
      target: 'species',
      model: { type: 'random-forest', params: { nEstimators: 5 } },
      register: { name: 'iris' },
    });
  });
  afterEach(() => registry.close());

  async function damage(path: string): Promise<void> {
    const version = (await registry.getVersion('iris', 1))!;
    const file = version.files.find((f) => f.path === path)!;
    const bytes = Buffer.from((await registry.stores.artifacts.get(file.key))!);
    bytes[bytes.length - 2] = bytes[bytes.length - 2]! ^ 1;
    await registry.stores.artifacts.put(file.key, bytes);
  }

  it('a flipped byte in model.native.json fails the load even though ONNX would serve', async () => {
    await damage('model.native.json');
    const error = await rejection(() => registry.load('models:/iris/1'));
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect((error as Error).message).toContain('"model.native.json"');
  });

  it('a flipped byte in model.onnx fails a load of the native format', async () => {
    await damage('model.onnx');
    const error = await rejection(() => registry.load('models:/iris/1', { format: 'native' }));
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect((error as Error).message).toContain('"model.onnx"');
  });

  it('a flipped byte in MODEL.json fails the load', async () => {
    await damage('MODEL.json');
    const error = await rejection(() => registry.load('models:/iris/1'));
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect((error as Error).message).toContain('"MODEL.json"');
  });

  it('a file missing from the artifact store fails the load', async () => {
    const version = (await registry.getVersion('iris', 1))!;
    await registry.stores.artifacts.delete(version.files.find((f) => f.path === 'model.native.json')!.key);
    const error = await rejection(() => registry.load('models:/iris/1'));
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect((error as Error).message).toMatch(/missing from the artifact store/);
  });

  it('intact files load in both formats and predict the same labels', async () => {
    const rows = [{ sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 }];
    const onnx = await registry.load('models:/iris/1');
    const native = await registry.load('models:/iris/1', { format: 'native' });
    expect(onnx.format).toBe('onnx');
    expect(await onnx.predict(rows)).toEqual(await native.predict(rows));
  });
});

describe('verifyChunks passes a body through and stops it when it does not match its record', () => {
  const record = (bytes: Buffer) => ({
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  });
  async function* chunksOf(...parts: string[]): AsyncIterable<Uint8Array> {
    for (const p of parts) yield Buffer.from(p);
  }
  async function collect(source: AsyncIterable<Uint8Array>, seen: string[]): Promise<unknown> {
    try {
      for await (const chunk of source) seen.push(Buffer.from(chunk).toString());
      return null;
    } catch (e) {
      return e;
    }
  }

  it('a matching body passes unchanged', async () => {
    const seen: string[] = [];
    expect(
      await collect(verifyChunks(chunksOf('ab', 'cd', 'ef'), record(Buffer.from('abcdef')), 'x'), seen),
    ).toBeNull();
    expect(seen.join('')).toBe('abcdef');
  });

  it('a body with other bytes of the same size is INTEGRITY before its last chunk is passed on', async () => {
    const seen: string[] = [];
    const error = await collect(
      verifyChunks(chunksOf('ab', 'cd', 'eX'), record(Buffer.from('abcdef')), 'file "f"'),
      seen,
    );
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect((error as Error).message).toMatch(/file "f" has sha256/);
    expect(seen.join('')).toBe('abcd');
  });

  it('a body longer than recorded is INTEGRITY as soon as the extra byte arrives', async () => {
    const seen: string[] = [];
    const error = await collect(
      verifyChunks(chunksOf('abc', 'def', 'never'), record(Buffer.from('abcd')), 'x'),
      seen,
    );
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect((error as Error).message).toMatch(/more than the 4 bytes/);
    expect(seen).toEqual([]);
  });

  it('a body shorter than recorded is INTEGRITY at its end', async () => {
    const seen: string[] = [];
    const error = await collect(verifyChunks(chunksOf('ab'), record(Buffer.from('abcd')), 'x'), seen);
    expect(isRegistryError(error, 'INTEGRITY')).toBe(true);
    expect(seen).toEqual([]);
  });
});
