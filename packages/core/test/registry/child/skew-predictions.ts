// Child: trains every skew case and prints its predictions in every input form as one JSON line,
// so the parent can compare processes started under different TZ values.
import { createMemoryArtifactStore } from '../../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../../src/registry/model-registry.js';
import { predictEveryWay, skewCases, trainSkewCase } from '../../../../../test-utils/value-skew.js';

const registry = await ModelRegistry.open({
  metadata: createMemoryMetadataStore(),
  artifacts: createMemoryArtifactStore(),
});
const results: Record<string, unknown> = {};
for (const c of skewCases()) {
  await trainSkewCase(registry, c);
  results[c.name] = await predictEveryWay(registry, c);
}
await registry.close();
process.stdout.write(
  `${JSON.stringify({
    tz: process.env.TZ,
    // Minutes local time is behind UTC on the day of the mixed CSV: 0 under UTC, 300 (EST) in New York.
    offsetMinutes: new Date(2024, 2, 9, 12).getTimezoneOffset(),
    results,
  })}\n`,
);
