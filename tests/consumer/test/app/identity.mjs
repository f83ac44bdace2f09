// One process loads both builds: a RegistryError of either is an instance of the other's class.
import { createRequire } from 'node:module';
import * as esm from '@modelreg/core';

const cjs = createRequire(import.meta.url)('@modelreg/core');

async function failure(core) {
  const registry = await core.ModelRegistry.open({
    metadata: core.createMemoryMetadataStore(),
    artifacts: core.createMemoryArtifactStore(),
  });
  try {
    await registry.getVersion('bad name!', 1);
  } catch (e) {
    return e;
  } finally {
    await registry.close();
  }
  throw new Error('expected a RegistryError');
}

const fromEsm = await failure(esm);
const fromCjs = await failure(cjs);
console.log(
  JSON.stringify({
    twoBuilds: esm.ModelRegistry !== cjs.ModelRegistry,
    cjsErrorIsEsmInstance: fromCjs instanceof esm.RegistryError,
    esmErrorIsCjsInstance: fromEsm instanceof cjs.RegistryError,
    esmIsRegistryError: esm.isRegistryError(fromCjs, 'INVALID_ARGUMENT'),
    cjsIsRegistryError: cjs.isRegistryError(fromEsm, 'INVALID_ARGUMENT'),
    codes: [fromEsm.code, fromCjs.code],
  }),
);
