import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import { treeEnsembleFromJson, treeEnsembleToJson } from '../../src/formats/native/tree-ensemble-json.js';
import type { TreeEnsembleJson } from '../../src/formats/native/tree-ensemble-json.js';
import { predictEnsemble } from '../../src/formats/tree-ensemble.js';
import type { FlatTree, TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import { fitForest, fitTree } from '../../src/training/native/index.js';
import { predictEnsembleFast } from '../../src/formats/native/fast-predict.js';
import { trainLibraryTree } from '../../src/training/trainers/decision-tree.js';
import { trainLibraryForests } from '../../src/training/trainers/random-forest.js';
import { cartTreeToEnsemble, forestsToEnsemble } from '../../src/training/trainers/to-ensemble.js';
import { friedman, threeClasses } from '../native-trees/helpers.js';

const viaText = (json: TreeEnsembleJson): unknown => JSON.parse(JSON.stringify(json));
const roundTrip = (model: TreeEnsemble, version?: 1 | 2): TreeEnsemble =>
  treeEnsembleFromJson(viaText(treeEnsembleToJson(model, version ? { version } : {})));

/** Same arrays bit for bit (Object.is, so -0 and NaN count). */
function expectSameModel(a: TreeEnsemble, b: TreeEnsemble): void {
  expect({ ...b, trees: [] }).toEqual({ ...a, trees: [] });
  expect(b.trees).toHaveLength(a.trees.length);
  a.trees.forEach((t, i) => {
    for (const key of ['feature', 'threshold', 'left', 'right', 'value'] as const) {
      const x = t[key];
      const y = b.trees[i]![key];
      expect(y.constructor).toBe(x.constructor);
      expect(y.length).toBe(x.length);
      for (let j = 0; j < x.length; j++) {
        if (!Object.is(x[j], y[j])) throw new Error(`tree ${i} ${key}[${j}]: ${x[j]} vs ${y[j]}`);
      }
    }
  });
}

function expectSamePredictions(a: TreeEnsemble, b: TreeEnsemble, x: Float64Array, n: number): void {
  const p = predictEnsemble(a, x, n);
  const q = predictEnsemble(b, x, n);
  for (let i = 0; i < p.length; i++) if (!Object.is(p[i], q[i])) throw new Error(`row value ${i} differs`);
}

const leaf = (value: number[]): FlatTree => ({
  feature: Int32Array.of(-1),
  threshold: Float64Array.of(0),
  left: Int32Array.of(-1),
  right: Int32Array.of(-1),
  value: Float64Array.from(value),
});

const handBuilt: TreeEnsemble = {
  task: 'classification',
  nFeatures: 2,
  nOutputs: 2,
  mode: 'lt',
  trees: [
    {
      feature: Int32Array.from([1, -1, -1]),
      threshold: Float64Array.from([0.1 + 0.2, 0, 0]),
      left: Int32Array.from([1, -1, -1]),
      right: Int32Array.from([2, -1, -1]),
      value: Float64Array.from([0, 0, 1 / 3, 2 / 3, 1, 0]),
    },
  ],
};

describe('tree-ensemble JSON', () => {
  const reg = friedman(3000, 6, 5);
  const cls = threeClasses(3000, 6, 5);

  it('writes version 2 and round-trips a hand-built ensemble bit-exactly', () => {
    const json = treeEnsembleToJson(handBuilt);
    expect(json.version).toBe(2);
    const back = treeEnsembleFromJson(viaText(json));
    expectSameModel(handBuilt, back);
    expect(back.trees[0]!.threshold[0]).toBe(0.1 + 0.2);
  });

  it('still reads version 1 files', () => {
    const json = treeEnsembleToJson(handBuilt, { version: 1 });
    expect(json.version).toBe(1);
    expectSameModel(handBuilt, treeEnsembleFromJson(viaText(json)));
  });

  it('native forests round-trip exactly: sibling layout, u8 features, class counts for classifiers', async () => {
    const regression = await fitForest({ ...reg, task: 'regression', params: { nEstimators: 4 }, seed: 3 });
    const classifier = await fitForest({
      ...cls,
      task: 'classification',
      params: { nEstimators: 4 },
      seed: 3,
    });
    for (const model of [regression, classifier]) {
      const json = treeEnsembleToJson(model);
      if (json.version !== 2) throw new Error('expected version 2');
      for (const t of json.trees) expect(t.layout).toBe('siblings');
      const back = treeEnsembleFromJson(viaText(json));
      expectSameModel(model, back);
      expectSamePredictions(model, back, reg.x, reg.nRows);
      expectSameModel(model, roundTrip(model, 1));
    }
    const valueTypes = (m: TreeEnsemble) =>
      new Set((treeEnsembleToJson(m) as { trees: { valueType: string }[] }).trees.map((t) => t.valueType));
    expect([...valueTypes(regression)]).toEqual(['f64']);
    expect([...valueTypes(classifier)].every((t) => ['u8', 'u16', 'u32'].includes(t))).toBe(true);
  });

  it('a single native tree without bootstrap and with entropy round-trips exactly', () => {
    const model = fitTree({ ...cls, task: 'classification', params: { criterion: 'entropy' }, seed: 1 });
    expectSameModel(model, roundTrip(model));
  });

  it('ml-random-forest and ml-cart models round-trip exactly in pre-order layout', async () => {
    const small = { ...cls, nRows: 400, x: cls.x.subarray(0, 400 * 6), y: cls.y.subarray(0, 400) };
    const base = {
      ...small,
      nFeatures: 6,
      featureNames: ['a', 'b', 'c', 'd', 'e', 'f'],
      task: 'classification' as const,
      nClasses: 3,
      seed: 4,
    };
    const forests = await trainLibraryForests({
      ...base,
      params: { nEstimators: 3, maxFeatures: 0.7, minSamplesSplit: 4, bootstrap: true },
    });
    const tree = trainLibraryTree({ ...base, params: { minSamplesSplit: 4 } });
    for (const model of [
      forestsToEnsemble(forests, 'classification', 6, 3),
      cartTreeToEnsemble(tree, 'classification', 6, 3),
    ]) {
      const json = treeEnsembleToJson(model) as { trees: { layout: string }[] };
      expect(json.trees.every((t) => t.layout === 'preorder')).toBe(true);
      expectSameModel(model, roundTrip(model));
    }
  });

  it('leaf values that are not exact class shares are kept as floats, bit for bit', () => {
    const model: TreeEnsemble = {
      task: 'classification',
      nFeatures: 300,
      nOutputs: 3,
      mode: 'leq',
      trees: [leaf([0.1, 0.7, 0.3]), leaf([0.1, 0.7, 0.2]), leaf([Math.PI / 4, 0, 1 - Math.PI / 4])],
    };
    const json = treeEnsembleToJson(model) as { trees: { valueType: string }[] };
    expect(json.trees.map((t) => t.valueType)).toEqual(['f64', 'u8', 'f64']);
    expectSameModel(model, roundTrip(model));
    const f32 = { ...model, task: 'regression' as const, nOutputs: 1, trees: [leaf([0.5]), leaf([0.1])] };
    expect(
      (treeEnsembleToJson(f32) as { trees: { valueType: string }[] }).trees.map((t) => t.valueType),
    ).toEqual(['f32', 'f64']);
    expectSameModel(f32, roundTrip(f32));
  });

  it('children in any order (pairs layout) and 40000 features (i16) round-trip', () => {
    const model: TreeEnsemble = {
      task: 'regression',
      nFeatures: 40_000,
      nOutputs: 1,
      mode: 'leq',
      trees: [
        {
          feature: Int32Array.from([39_999, -1, 7, -1, -1]),
          threshold: Float64Array.from([-0, 0, 1e300, 0, 0]),
          left: Int32Array.from([2, -1, 4, -1, -1]),
          right: Int32Array.from([1, -1, 3, -1, -1]),
          value: Float64Array.from([0, -1.5, 0, 2, 1e-310]),
        },
      ],
    };
    expect((treeEnsembleToJson(model) as { trees: { layout: string }[] }).trees[0]!.layout).toBe('pairs');
    expectSameModel(model, roundTrip(model));
  });

  it('version 2 is several times smaller than version 1 for a native forest', async () => {
    const model = await fitForest({ ...reg, task: 'regression', params: { nEstimators: 3 }, seed: 1 });
    const v1 = JSON.stringify(treeEnsembleToJson(model, { version: 1 })).length;
    const v2 = JSON.stringify(treeEnsembleToJson(model)).length;
    expect(v1 / v2).toBeGreaterThan(2.5);
  });

  it('rejects trees whose children do not come after their parent (no cycles) as INVALID_ARGUMENT', () => {
    for (const version of [1, 2] as const) {
      const bad = structuredClone(handBuilt);
      bad.trees[0]!.left[0] = 0;
      bad.trees[0]!.right[0] = 1;
      try {
        treeEnsembleFromJson(treeEnsembleToJson(bad, { version }));
        expect.unreachable();
      } catch (e) {
        expect(isRegistryError(e, 'INVALID_ARGUMENT')).toBe(true);
        expect(String(e)).toMatch(/tree 0 node 0/);
      }
    }
  });

  it('rejects a node with two parents (a DAG, not a tree) in the file and in the fast predictor', () => {
    const dag: TreeEnsemble = {
      ...handBuilt,
      trees: [
        {
          feature: Int32Array.from([0, 1, -1, -1]),
          threshold: Float64Array.from([0, 0, 0, 0]),
          left: Int32Array.from([1, 2, -1, -1]),
          right: Int32Array.from([2, 3, -1, -1]),
          value: new Float64Array(8).fill(0.5),
        },
      ],
    };
    for (const version of [1, 2] as const) {
      expect(() => treeEnsembleFromJson(treeEnsembleToJson(dag, { version }))).toThrow(
        /tree 0 node 1 is invalid/,
      );
    }
    expect(() => predictEnsembleFast(dag, Float64Array.of(1, 1), 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('rejects wrong byte counts, unknown versions and leaves without counts as INVALID_ARGUMENT', () => {
    const json = treeEnsembleToJson(handBuilt) as Extract<TreeEnsembleJson, { version: 2 }>;
    const cases: unknown[] = [
      { ...json, trees: [{ ...json.trees[0]!, threshold: '' }] },
      { ...json, version: 99 },
      { ...json, trees: [{ ...json.trees[0]!, nodes: 4 }] },
      {
        ...json,
        trees: [{ ...json.trees[0]!, valueType: 'u8', value: Buffer.from([0, 0, 1, 0]).toString('base64') }],
      },
    ];
    for (const c of cases) {
      const error = (() => {
        try {
          treeEnsembleFromJson(c);
        } catch (e) {
          return e;
        }
      })();
      expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
