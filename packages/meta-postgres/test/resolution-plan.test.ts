import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore, VersionSelector } from '@modelreg/core';
import { createPostgresMetadataStore } from '../src/index.js';
import { resolveVersionQuery } from '../src/models.js';
import { adminPool, dropSchema, pgReachable, randomSchema } from './pg-env.js';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}
const nodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodes)];

/**
 * Resolution cost must not grow with history: with sequential scans priced out, the one statement
 * behind `resolveVersion` reads model_versions only through an index, and never sorts it.
 */
describe.runIf(pgReachable)('meta-postgres resolution plans', () => {
  const admin = adminPool(2);
  const schema = randomSchema('mr_plan');
  let store: MetadataStore;

  beforeAll(async () => {
    store = createPostgresMetadataStore({ pool: admin, schema });
    await store.init();
  });
  afterAll(async () => {
    await store.close();
    await dropSchema(admin, schema);
    await admin.end();
  });

  // A version number or an alias may use either (model_name, version) index; latest and stage need
  // the partial live-version ones, whose order answers `ORDER BY version DESC LIMIT 1` without a sort.
  const selectors: Array<[string, VersionSelector, RegExp]> = [
    ['latest', { type: 'latest' }, /^model_versions_live_idx$/],
    ['stage', { type: 'stage', stage: 'production' }, /^model_versions_live_stage_idx$/],
    ['alias', { type: 'alias', alias: 'champion' }, /^model_versions_(unique|live_idx|live_stage_idx)$/],
    ['version', { type: 'version', version: 3 }, /^model_versions_(unique|live_idx|live_stage_idx)$/],
  ];

  it.each(selectors)(
    '%s reads model_versions through an index and never sorts versions',
    async (_, selector, index) => {
      const [sql, params] = resolveVersionQuery(`"${schema}"`, 'iris', selector);
      const client = await admin.connect();
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL enable_seqscan = off');
        const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
          `EXPLAIN (FORMAT JSON) ${sql}`,
          params,
        );
        const all = nodes(rows[0]!['QUERY PLAN'][0]!.Plan);
        const onVersions = all.filter((n) => n['Relation Name'] === 'model_versions');
        expect(onVersions.map((n) => n['Node Type'])).not.toContain('Seq Scan');
        expect(onVersions.length).toBeGreaterThan(0);
        for (const n of onVersions) expect(n['Index Name'] ?? n['Node Type']).toMatch(index);
        // The only sort allowed is the one over a version's few aliases.
        const sorted = all.filter((n) => n['Node Type'] === 'Sort').flatMap((n) => nodes(n).slice(1));
        const sortedTables = sorted.map((n) => n['Relation Name']).filter((r) => r !== undefined);
        expect(sortedTables.filter((r) => r !== 'aliases')).toEqual([]);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    },
  );
});
