import { afterEach, describe, expect, it, vi } from 'vitest';
import { recognizeBinding } from '../../src/formats/onnx/binding.js';
import { exportTreeEnsembleToOnnx } from '../../src/formats/onnx/export-tree-ensemble.js';
import { createOnnxPredictor } from '../../src/formats/onnx/session.js';
import type * as SessionModule from '../../src/formats/onnx/session.js';
import { randomForest, rowsNearThresholds } from './fixtures.js';

// modelreg runs ONNX models through onnxruntime-node's native session (its `dist/binding` module,
// under the public InferenceSession) only when that module has the shape of the version it was
// written against; anything else falls back to the public InferenceSession.

const options = { intraOpNumThreads: 1, executionProviders: ['cpu'], logSeverityLevel: 4 as const };

/** A module shaped like `onnxruntime-node/dist/binding`, whose session lists the given names. */
function fakeBinding(metadata: { inputs: unknown; outputs: unknown }) {
  const calls: string[] = [];
  class InferenceSession {
    inputMetadata = metadata.inputs;
    outputMetadata = metadata.outputs;
    loadModel(): void {
      calls.push('loadModel');
    }
    run(): Record<string, { data: unknown }> {
      calls.push('run');
      return {};
    }
    dispose(): void {
      calls.push('dispose');
    }
  }
  const exports = { binding: { InferenceSession }, initOrt: () => calls.push('initOrt') };
  // As an ES module import of the CommonJS file gives it: named exports and `default`.
  return { calls, module: { ...exports, default: exports } };
}

const regressor = randomForest({ seed: 21, task: 'regression', mode: 'leq', nTrees: 4, maxDepth: 5 });
const bytes = exportTreeEnsembleToOnnx(regressor);

afterEach(() => {
  vi.doUnmock('onnxruntime-node/dist/binding.js');
  vi.resetModules();
});

async function sessionWithBinding(factory: () => Record<string, unknown>): Promise<typeof SessionModule> {
  vi.resetModules();
  vi.doMock('onnxruntime-node/dist/binding.js', factory);
  return import('../../src/formats/onnx/session.js');
}

describe('the native binding of onnxruntime-node', () => {
  it('is recognized in the installed onnxruntime-node, and createOnnxPredictor runs through it', async () => {
    expect(recognizeBinding(await import('onnxruntime-node/dist/binding.js'))).not.toBeNull();
    const p = await createOnnxPredictor(bytes);
    expect(p.path).toBe('binding');
    await p.release();
  });

  it('is not recognized when its module lacks the session class, its methods or initOrt', () => {
    const ok = fakeBinding({ inputs: [], outputs: [] }).module.default;
    const { InferenceSession } = ok.binding;
    const without = (method: 'loadModel' | 'run' | 'dispose') => {
      class Partial extends InferenceSession {}
      Object.defineProperty(Partial.prototype, method, { value: undefined });
      return { binding: { InferenceSession: Partial }, initOrt: ok.initOrt };
    };
    for (const module of [
      null,
      undefined,
      42,
      {},
      { binding: {} },
      { binding: { InferenceSession }, initOrt: 'yes' },
      { binding: { InferenceSession: {} }, initOrt: ok.initOrt },
      without('loadModel'),
      without('run'),
      without('dispose'),
    ]) {
      expect(recognizeBinding(module)).toBeNull();
    }
    const throwing = new Proxy(ok, {
      get() {
        throw new Error('no such export');
      },
    });
    expect(recognizeBinding(throwing)).toBeNull();
    expect(recognizeBinding(ok)).not.toBeNull();
    expect(recognizeBinding({ default: ok })).not.toBeNull();
  });

  it('a session that does not list the expected input and outputs is disposed and not used', () => {
    const names = { input: 'input', outputs: ['variable'] };
    const cases = [
      { inputs: [{ name: 'input' }], outputs: [{ name: 'variable' }], used: true },
      { inputs: [{ name: 'other' }], outputs: [{ name: 'variable' }], used: false },
      { inputs: [{ name: 'input' }], outputs: [{ name: 'label' }], used: false },
      { inputs: 'input', outputs: [{ name: 'variable' }], used: false },
      { inputs: [{ name: 'input' }], outputs: [{ title: 'variable' }], used: false },
    ];
    for (const { used, ...metadata } of cases) {
      const fake = fakeBinding(metadata);
      const session = recognizeBinding(fake.module)!.load(bytes, options, names);
      expect(session !== null).toBe(used);
      expect(fake.calls).toEqual(used ? ['initOrt', 'loadModel'] : ['initOrt', 'loadModel', 'dispose']);
    }
  });

  it('createOnnxPredictor falls back to the public InferenceSession, with the same answers', async () => {
    const x = rowsNearThresholds(regressor, 500, 7);
    const viaBinding = await createOnnxPredictor(bytes);
    const expected = await viaBinding.predictRegression(x, 500, 10);
    await viaBinding.release();
    const unlike = { binding: {}, initOrt: () => undefined };
    const factories: Array<() => Record<string, unknown>> = [
      () => {
        throw new Error('Cannot find module onnxruntime-node/dist/binding.js');
      },
      () => ({ ...unlike, default: unlike }),
      // Recognized, but its sessions do not describe the model: each is disposed, the public one is used.
      () => fakeBinding({ inputs: [], outputs: [] }).module,
    ];
    for (const factory of factories) {
      const session = await sessionWithBinding(factory);
      const p = await session.createOnnxPredictor(bytes);
      expect(p.path).toBe('session');
      expect(await p.predictRegression(x, 500, 10)).toEqual(expected);
      await p.release();
    }
  });
});
