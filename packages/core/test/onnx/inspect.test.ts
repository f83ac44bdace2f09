import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { exportTreeEnsembleToOnnx } from '../../src/formats/onnx/export-tree-ensemble.js';
import { inspectOnnxModel, looksLikeFileReference } from '../../src/formats/onnx/inspect.js';
import { encodeOnnxModel } from '../../src/formats/onnx/proto.js';
import {
  externalReferenceModels,
  linearRegressionModel,
  prng,
  randomForest,
  zipMapClassifierModel,
} from './fixtures.js';

function inspectError(bytes: Uint8Array): unknown {
  try {
    inspectOnnxModel(bytes);
  } catch (e) {
    return e;
  }
  return undefined;
}

const expectInvalid = (bytes: Uint8Array) => {
  const error = inspectError(bytes);
  expect(isRegistryError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
  expect((error as { where?: string }).where).toBe('onnx');
};

/** Inspect either succeeds or throws INVALID_ARGUMENT; anything else fails the test. */
const expectInspectOrInvalid = (bytes: Uint8Array, label: string) => {
  const error = inspectError(bytes);
  if (error !== undefined && !isRegistryError(error, 'INVALID_ARGUMENT')) {
    throw new Error(`${label}: unexpected ${String(error)}`);
  }
};

const classifier = randomForest({
  seed: 5,
  task: 'classification',
  mode: 'leq',
  nClasses: 3,
  nTrees: 3,
  maxDepth: 4,
});

describe('inspectOnnxModel', () => {
  it('reads the interface of an exported regressor', () => {
    const model = randomForest({ seed: 1, task: 'regression', mode: 'lt', nTrees: 2, maxDepth: 3 });
    const info = inspectOnnxModel(exportTreeEnsembleToOnnx(model, { inputName: 'input', producer: 'tests' }));
    expect(info.inputs).toEqual([{ name: 'input', kind: 'tensor', elemType: 'float', shape: ['N', 10] }]);
    expect(info.outputs).toEqual([{ name: 'variable', kind: 'tensor', elemType: 'float', shape: ['N', 1] }]);
    // A regression with one value per leaf is exported with ai.onnx.ml 5 TreeEnsemble (IR 10).
    expect(info.opsets).toEqual([
      { domain: '', version: 17 },
      { domain: 'ai.onnx.ml', version: 5 },
    ]);
    expect(info.producer).toBe('tests');
    expect(info.irVersion).toBe(10);
    expect(info.nodeCount).toBe(1);
  });

  it('reads label and probability outputs of an exported classifier', () => {
    const info = inspectOnnxModel(exportTreeEnsembleToOnnx(classifier, { classes: ['a', 'b', 'c'] }));
    expect(info.outputs).toEqual([
      { name: 'label', kind: 'tensor', elemType: 'string', shape: ['N'] },
      { name: 'probabilities', kind: 'tensor', elemType: 'float', shape: ['N', 3] },
    ]);
  });

  it('reports unnamed dimensions as null and hides initializers listed as inputs', () => {
    const info = inspectOnnxModel(linearRegressionModel([1, 2, 3], 0.5));
    expect(info.inputs).toEqual([
      { name: 'float_input', kind: 'tensor', elemType: 'float', shape: [null, 3] },
    ]);
  });

  it('reports a ZipMap output as a sequence', () => {
    const info = inspectOnnxModel(
      zipMapClassifierModel(
        [
          [1, 0],
          [0, 1],
        ],
        [0, 0],
        [3, 4],
      ),
    );
    expect(info.outputs.map((o) => [o.name, o.kind])).toEqual([
      ['output_label', 'tensor'],
      ['output_probability', 'sequence'],
    ]);
  });

  it('refuses empty, random and non-ONNX bytes', () => {
    expectInvalid(new Uint8Array(0));
    expectInvalid(new TextEncoder().encode('{"not": "onnx"}'));
    expectInvalid(new TextEncoder().encode('PK\u0003\u0004 a zip file'));
    expectInvalid(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff]));
  });

  it('refuses well-formed protobuf that is not a usable model', () => {
    expectInvalid(encodeOnnxModel({ irVersion: 8, opsetImport: [{ domain: '', version: 17 }] }));
    expectInvalid(encodeOnnxModel({ irVersion: 8, opsetImport: [{ version: 17 }], graph: { name: 'g' } }));
    const graph = { node: [{ opType: 'Identity', input: ['x'], output: ['y'] }], output: [{ name: 'y' }] };
    expectInvalid(encodeOnnxModel({ irVersion: 0, opsetImport: [{ version: 17 }], graph }));
    expectInvalid(encodeOnnxModel({ irVersion: 8, graph }));
    expect(
      inspectOnnxModel(encodeOnnxModel({ irVersion: 8, opsetImport: [{ version: 17 }], graph })).nodeCount,
    ).toBe(1);
  });

  it.each(Object.entries(externalReferenceModels()))(
    'refuses a model with a file reference: %s',
    (_name, bytes) => {
      expectInvalid(bytes);
    },
  );

  it('accepts ordinary strings that merely contain slashes', () => {
    for (const s of ['a/b', 'label/1', 'http://example.com/x', 'N/A', '1/2', 'x..y', 'a..b/c']) {
      expect(looksLikeFileReference(s), s).toBe(false);
    }
    for (const s of [
      '/etc/passwd',
      '../w.bin',
      'a/../../b',
      'C:\\w.bin',
      '\\\\server\\share',
      'file:///w',
      '~/w',
      '..',
    ]) {
      expect(looksLikeFileReference(s), s).toBe(true);
    }
  });

  it('never throws anything but INVALID_ARGUMENT on truncated models', () => {
    const bytes = exportTreeEnsembleToOnnx(classifier, { classes: ['a', 'b', 'c'] });
    for (let end = 0; end < bytes.length; end++)
      expectInspectOrInvalid(bytes.subarray(0, end), `truncated at ${end}`);
    expectInvalid(bytes.subarray(0, bytes.length >> 1));
  });

  it('never throws anything but INVALID_ARGUMENT on random bytes and corrupted models', () => {
    const rng = prng(7);
    for (let i = 0; i < 2000; i++) {
      const random = Uint8Array.from({ length: Math.floor(rng() * 512) }, () => Math.floor(rng() * 256));
      expectInspectOrInvalid(random, `random #${i}`);
    }
    const valid = exportTreeEnsembleToOnnx(classifier);
    for (let i = 0; i < 2000; i++) {
      const corrupt = valid.slice();
      const flips = 1 + Math.floor(rng() * 4);
      for (let k = 0; k < flips; k++) corrupt[Math.floor(rng() * corrupt.length)] = Math.floor(rng() * 256);
      expectInspectOrInvalid(corrupt, `corrupt #${i}`);
    }
  });

  it('refuses deeply nested messages without overflowing the stack', () => {
    // GraphProto.node(1) → NodeProto.attribute(5) → AttributeProto.g(6) → GraphProto ... 1000 levels deep.
    let inner: Uint8Array = new Uint8Array(0);
    const wrap = (field: number, body: Uint8Array): Uint8Array => {
      const len: number[] = [];
      let n = body.length;
      do {
        len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
        n >>>= 7;
      } while (n > 0);
      return Uint8Array.from([(field << 3) | 2, ...len, ...body]);
    };
    for (let i = 0; i < 1000; i++) inner = wrap(1, wrap(5, wrap(6, inner)));
    const model = Uint8Array.from([0x08, 0x08, ...wrap(7, inner)]);
    expectInvalid(model);
  });
});
