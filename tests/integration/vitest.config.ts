import { sourceAlias, testConfig } from '../../vitest.shared.js';

export default testConfig({ alias: sourceAlias, timeoutMs: 120_000 });
