// A consumer app in ESM: train, register, load, predict with the root entry of @modelreg/core.
import * as core from '@modelreg/core';
import flow from './flow.cjs';

console.log(JSON.stringify(await flow.run(core)));
