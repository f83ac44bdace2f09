// A child process of the cross-process hot-reload tests (bundled by bundleForChildProcess, every
// @modelreg/* package resolved to its source). It opens the registry on the stores named by its JSON argument, watches a URI and
// predicts in a loop, printing one NDJSON line per event with a timestamp `t` (ms since epoch):
//   { type: 'ready', version }            the first load completed
//   { type: 'swap', from, to }            the live model swapped versions
//   { type: 'watch-error', phase, message }
//   { type: 'prediction', i, version }    prediction i succeeded on `version`
//   { type: 'error', i, message }         prediction i failed
//   { type: 'done' }
// argv[2]: { kind: 'postgres' | 'sqlite', connectionString?, schema?, filename?, artifactsRoot,
//            uri, count, intervalMs, rows }
import { ModelRegistry } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';

const config = JSON.parse(process.argv[2] ?? '{}');
const out = (line) => process.stdout.write(`${JSON.stringify({ ...line, t: Date.now() })}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const metadata =
  config.kind === 'postgres'
    ? createPostgresMetadataStore({ connectionString: config.connectionString, schema: config.schema })
    : createSqliteMetadataStore({ filename: config.filename });
const registry = await ModelRegistry.open({
  metadata,
  artifacts: createFsArtifactStore({ root: config.artifactsRoot }),
});
const live = registry.watch(config.uri, {
  onSwap: (e) => out({ type: 'swap', from: e.from?.version ?? null, to: e.to.version }),
  onError: (e) => out({ type: 'watch-error', phase: e.phase, message: String(e.error?.message ?? e.error) }),
});
const first = await live.ready();
out({ type: 'ready', version: first.version?.version ?? null });
for (let i = 0; i < config.count; i++) {
  try {
    const { predictions, version } = await live.predictWithVersion(config.rows);
    if (predictions.length !== config.rows.length) throw new Error(`got ${predictions.length} predictions`);
    out({ type: 'prediction', i, version: version?.version ?? null });
  } catch (e) {
    out({ type: 'error', i, message: String(e?.message ?? e) });
  }
  await sleep(config.intervalMs);
}
out({ type: 'done' });
await registry.close();
