import { testConfig } from '../../vitest.shared.js';

// Core's tests import core by relative paths; no alias is needed, and none hurts.
export default testConfig({ timeoutMs: 30_000 });
