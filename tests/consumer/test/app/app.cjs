// A consumer app in CommonJS: train, register, load, predict with the root entry of @modelreg/core.
const core = require('@modelreg/core');
const { run } = require('./flow.cjs');

run(core).then(
  (result) => console.log(JSON.stringify(result)),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
