// The flow both apps run with the core module they loaded (ESM or CJS build).
const { availableParallelism } = require('node:os');

const rows = [];
for (let i = 0; i < 120; i++) {
  const a = (i * 37) % 100;
  const b = (i * 53) % 100;
  rows.push({ a, b, label: a + b > 100 ? 'high' : 'low' });
}

exports.run = async function run(core) {
  const registry = await core.ModelRegistry.open({
    metadata: core.createMemoryMetadataStore(),
    artifacts: core.createMemoryArtifactStore(),
  });
  try {
    const workers = Math.min(2, availableParallelism());
    const { run, version } = await registry.train({
      experiment: 'consumer',
      dataset: { rows },
      target: 'label',
      model: { type: 'random-forest', params: { nEstimators: 8, maxDepth: 6, workers } },
      split: { testSize: 0.25, seed: 1 },
      register: { name: 'consumer', stage: 'production' },
    });
    const model = await registry.load('models:/consumer/production');
    const predictions = await model.predict([
      { a: 90, b: 90 },
      { a: 5, b: 5 },
    ]);
    let onnxRequested = null;
    try {
      await registry.train({
        dataset: { rows },
        target: 'label',
        model: { type: 'decision-tree' },
        formats: ['onnx'],
      });
      onnxRequested = 'ok';
    } catch (e) {
      onnxRequested = { registryError: core.isRegistryError(e), code: e.code, message: e.message };
    }
    return {
      version: version.version,
      formats: run.tags['modelreg.formats'],
      loaded: model.format,
      predictions,
      workers,
      onnxRequested,
    };
  } finally {
    await registry.close();
  }
};
