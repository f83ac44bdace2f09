import { testConfig } from '../../vitest.shared.js';

// The test installs core's packed tarball (its dist) into scratch projects; nothing resolves to source.
export default testConfig({ alias: [], timeoutMs: 120_000 });
