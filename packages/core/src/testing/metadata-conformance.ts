import { afterEach, beforeEach, describe, it } from 'vitest';
import type { MetadataStore } from '../stores/metadata-store.js';
import type { MetadataConformanceOptions, MetadataInspector, SuiteContext } from './metadata/context.js';
import { datasetTests, referencedKeyTests } from './metadata/datasets.js';
import { deploymentTests } from './metadata/deployments.js';
import { cursorTests, webhookTests } from './metadata/webhooks.js';
import { eventTests } from './metadata/events.js';
import { experimentTests, runTests } from './metadata/experiments-runs.js';
import { registryIdTests, runLeaseTests } from './metadata/housekeeping.js';
import { jobTests } from './metadata/jobs.js';
import { experimentLifecycleTests, modelRenameTests, runLifecycleTests } from './metadata/lifecycle.js';
import { identityTests } from './metadata/identity.js';
import { modelTests, versionTests } from './metadata/models-versions.js';
import { registrationTests } from './metadata/registration.js';
import { prototypeNameTests } from './metadata/prototype-names.js';
import { resolutionTests } from './metadata/resolution.js';
import { runArtifactTests, searchRunTests } from './metadata/search-runs.js';
import { aliasTests, historyTests, stageTests } from './metadata/stages-aliases.js';
import { storedValueTests } from './metadata/stored-values.js';

export type {
  MetadataConformanceOptions,
  MetadataInspector,
  StoredFile,
  StoredModel,
  StoredVersion,
} from './metadata/context.js';

/**
 * The behaviour every {@link MetadataStore} must show. Each test gets a fresh store from `create()`,
 * calls `init()` and closes it afterwards, so no test depends on another's leftovers.
 */
export function describeMetadataStoreConformance(options: MetadataConformanceOptions): void {
  describe(`MetadataStore conformance: ${options.name}`, () => {
    let current: MetadataStore | undefined;
    let inspector: MetadataInspector | undefined;
    const extra: MetadataStore[] = [];

    const open = async (): Promise<MetadataStore> => {
      const store = await options.create();
      await store.init();
      return store;
    };

    beforeEach(async () => {
      current = await open();
      inspector = options.inspect?.(current);
    });

    afterEach(async () => {
      for (const store of [current, ...extra.splice(0)]) {
        if (!store) continue;
        await store.close();
        await options.destroy?.(store);
      }
      current = undefined;
      inspector = undefined;
    });

    const ctx: SuiteContext = {
      store: () => {
        if (!current) throw new Error('no store: the conformance suite creates one per test');
        return current;
      },
      inspector: () => {
        if (!inspector) throw new Error('no inspector: pass `inspect` to describeMetadataStoreConformance');
        return inspector;
      },
      hasInspector: options.inspect !== undefined,
      itWithInspector: (name, fn) => {
        if (options.inspect !== undefined) it(name, fn);
      },
    };

    describe('experiments', () => experimentTests(ctx));
    describe('runs', () => runTests(ctx));
    describe('deleting and restoring experiments', () => experimentLifecycleTests(ctx));
    describe('deleting and restoring runs', () => runLifecycleTests(ctx));
    describe('searchRuns', () => searchRunTests(ctx));
    describe('run artifacts', () => runArtifactTests(ctx));
    describe('registered models', () => modelTests(ctx));
    describe('versions', () => versionTests(ctx));
    describe('renaming models', () => modelRenameTests(ctx));
    describe('stages', () => stageTests(ctx));
    describe('aliases', () => aliasTests(ctx));
    describe('history', () => historyTests(ctx));
    describe('registration in one createVersion transaction', () => registrationTests(ctx));
    describe('resolution', () => resolutionTests(ctx));
    describe('Object.prototype names', () => prototypeNameTests(ctx));
    if (ctx.hasInspector) describe('stored values (inspector)', () => storedValueTests(ctx));
    describe('datasets', () => datasetTests(ctx));
    describe('referenced keys', () => referencedKeyTests(ctx));
    describe('event log', () => eventTests(ctx));
    describe('registry id', () => registryIdTests(ctx));
    describe('run leases', () => runLeaseTests(ctx));
    describe('training jobs', () => jobTests(ctx));
    describe('identity (API tokens)', () => identityTests(ctx));
    describe('deployments', () => deploymentTests(ctx));
    describe('event cursors', () => cursorTests(ctx));
    describe('webhooks', () => webhookTests(ctx));

    if (options.additionalTests) {
      describe('additional tests', () => {
        options.additionalTests?.({
          create: async () => {
            const store = await open();
            extra.push(store);
            return store;
          },
        });
      });
    }
  });
}
