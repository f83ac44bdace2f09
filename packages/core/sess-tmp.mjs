import { readFileSync } from 'node:fs';
const bytes = readFileSync('/tmp/forest.onnx');
const ort = (await import('onnxruntime-node')).default;
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'], logSeverityLevel: 4, graphOptimizationLevel: 'disabled' };
for (let i = 0; i < 3; i++) { const t = performance.now(); const s = await ort.InferenceSession.create(bytes, opts); console.log('create', (performance.now() - t).toFixed(0)); await s.release(); }
