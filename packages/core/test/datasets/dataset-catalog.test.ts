import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatasetCatalog, datasetKey } from '../../src/datasets/dataset-catalog.js';
import type { CsvSource } from '../../src/datasets/csv.js';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import type { ArtifactStore } from '../../src/stores/artifact-store.js';
import type { MetadataStore } from '../../src/stores/metadata-store.js';
import { chunked, expectRegistryError, fixture } from './helpers.js';

let spoolDir: string;
let metadata: MetadataStore;
let artifacts: ArtifactStore;
let catalog: DatasetCatalog;
let clock: number;

beforeEach(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'modelreg-datasets-test-'));
  metadata = createMemoryMetadataStore();
  artifacts = createMemoryArtifactStore();
  await metadata.init();
  await artifacts.init();
  clock = 1_700_000_000_000;
  catalog = new DatasetCatalog({ metadata, artifacts, now: () => clock++, tmpDir: spoolDir });
});

afterEach(async () => {
  await rm(spoolDir, { recursive: true, force: true });
});

/** Asserts that nothing was stored: no dataset, no artifact, no event, no spool file. */
async function expectStoresUnchanged(seqBefore = 0): Promise<void> {
  expect(await metadata.listDatasets()).toEqual([]);
  expect(await artifacts.list('')).toEqual([]);
  expect(await metadata.lastEventSeq()).toBe(seqBefore);
  expect(await readdir(spoolDir)).toEqual([]);
}

describe('DatasetCatalog.upload', () => {
  it('normalizes the name, infers the schema and stores the file content-addressed', async () => {
    const ds = await catalog.upload('data/Iris Flowers.csv', fixture('iris.csv'));
    expect(ds).toMatchObject({
      name: 'iris_flowers',
      version: 1,
      rows: 150,
      size: fixture('iris.csv').byteLength,
      originalName: 'Iris Flowers.csv',
      createdAt: 1_700_000_000_000,
      deletedAt: null,
      created: true,
    });
    expect(ds.key).toBe(datasetKey('iris_flowers', ds.sha256));
    expect(ds.key).toMatch(/^datasets\/iris_flowers\/[0-9a-f]{64}\.csv$/);
    expect(ds.columns.map((c) => c.type)).toEqual(['number', 'number', 'number', 'number', 'categorical']);
    expect((await artifacts.list('')).map((a) => a.key)).toEqual([ds.key]);
    expect(Buffer.from((await artifacts.get(ds.key)) as Uint8Array)).toEqual(
      Buffer.from(fixture('iris.csv')),
    );
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('the same bytes return the existing version and store nothing new', async () => {
    const first = await catalog.upload('iris.csv', fixture('iris.csv'));
    const seq = await metadata.lastEventSeq();
    const again = await catalog.upload('IRIS.csv', chunked(fixture('iris.csv'), 100));
    expect(again).toEqual({ ...first, created: false });
    expect(await metadata.lastEventSeq()).toBe(seq);
    expect(await artifacts.list('')).toHaveLength(1);
    expect(await catalog.versions('iris')).toHaveLength(1);
  });

  it('new bytes make version 2, and get returns the latest', async () => {
    await catalog.upload('iris.csv', fixture('iris.csv'));
    const v2 = await catalog.upload('iris.csv', 'a,b\n1,2\n');
    expect(v2).toMatchObject({ version: 2, rows: 1, created: true });
    expect((await catalog.get('iris'))?.version).toBe(2);
    expect((await catalog.get('iris', 1))?.rows).toBe(150);
    expect((await catalog.versions('iris')).map((d) => d.version)).toEqual([1, 2]);
    expect(await artifacts.list('datasets/iris/')).toHaveLength(2);
  });

  it('accepts a one-row dataset', async () => {
    expect(await catalog.upload('one', 'x,y\n1,a\n')).toMatchObject({ rows: 1, version: 1 });
  });

  it('accepts BOM, CRLF and quoted newlines, with the raw bytes hashed and stored', async () => {
    const text = '\uFEFFid,note\r\n1,"two\r\nlines"\r\n2,plain\r\n';
    const ds = await catalog.upload('notes.csv', text);
    expect(ds.columns.map((c) => c.name)).toEqual(['id', 'note']);
    expect(ds.size).toBe(Buffer.byteLength(text));
    const table = await catalog.load('notes');
    expect(table.data.note).toEqual(['two\r\nlines', 'plain']);
  });

  it('documents the all-missing column: kept as string with nullCount = rows', async () => {
    const ds = await catalog.upload('sparse', 'a,empty\n1,\n2,NA\n3,null\n');
    expect(ds.columns[1]).toEqual({ name: 'empty', type: 'string', nullCount: 3, distinctCount: 0 });
    expect((await catalog.load('sparse')).data.empty).toEqual([null, null, null]);
  });

  it('documents the non-numeric value in a numeric-looking column: the column becomes categorical', async () => {
    const ds = await catalog.upload('dirty', 'x\n1\n2\n?\n3\n');
    expect(ds.columns[0]).toMatchObject({ type: 'categorical', categories: ['1', '2', '3', '?'] });
    expect((await catalog.load('dirty')).data.x).toEqual(['1', '2', '?', '3']);
  });

  it.each<[string, CsvSource, RegExp]>([
    ['an empty file', '', /dataset "bad": the file is empty/],
    ['a header only', 'a,b,c\n', /header \(line 1\) but no data rows/],
    ['a ragged row', 'a,b\n1,2\n3\n4,5\n', /line 3: row has 1 field but the header has 2 columns/],
    ['duplicate column names', 'a,b,a\n1,2,3\n', /duplicate column names: "a" \(columns 1 and 3\)/],
    ['an unclosed quote', 'a,b\n1,"open\n', /line 2: a quoted field is never closed/],
    ['bytes that are not UTF-8', Buffer.from([0x61, 0x0a, 0xff, 0xfe, 0x0a]), /not valid UTF-8/],
  ])('refuses %s with INVALID_ARGUMENT and leaves the stores unchanged', async (_, body, pattern) => {
    await expectRegistryError(catalog.upload('bad.csv', body), 'INVALID_ARGUMENT', pattern);
    await expectStoresUnchanged();
  });

  it('a failing upload of a new version leaves the earlier versions and stores as they were', async () => {
    await catalog.upload('iris.csv', fixture('iris.csv'));
    const seq = await metadata.lastEventSeq();
    const keys = await artifacts.list('');
    await expectRegistryError(
      catalog.upload('iris.csv', chunked('a,b\n1,2\n3\n', 3)),
      'INVALID_ARGUMENT',
      /line 3/,
    );
    expect(await metadata.lastEventSeq()).toBe(seq);
    expect(await artifacts.list('')).toEqual(keys);
    expect(await catalog.versions('iris')).toHaveLength(1);
    expect(await readdir(spoolDir)).toEqual([]);
  });

  it('a body that fails mid-stream leaves nothing behind', async () => {
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('a,b\n1,2\n');
      throw new Error('connection reset');
    }
    await expectRegistryError(catalog.upload('x', failing()), 'INVALID_ARGUMENT', /connection reset/);
    await expectStoresUnchanged();
  });

  it('an invalid name is INVALID_ARGUMENT before anything is read', async () => {
    await expectRegistryError(catalog.upload('???.csv', 'a\n1\n'), 'INVALID_ARGUMENT', /"\?\?\?\.csv"/);
    await expectStoresUnchanged();
  });

  it('when recording the version fails, the stored file is removed', async () => {
    const failing: MetadataStore = Object.create(metadata, {
      createDatasetVersion: { value: () => Promise.reject(new Error('database is locked')) },
    }) as MetadataStore;
    const broken = new DatasetCatalog({ metadata: failing, artifacts, tmpDir: spoolDir });
    await expect(broken.upload('iris.csv', fixture('iris.csv'))).rejects.toThrow(/database is locked/);
    await expectStoresUnchanged();
  });

  it('when the artifact store fails, nothing is recorded and the spool file is removed', async () => {
    const failing: ArtifactStore = Object.create(artifacts, {
      put: { value: () => Promise.reject(new Error('bucket is gone')) },
    }) as ArtifactStore;
    const broken = new DatasetCatalog({ metadata, artifacts: failing, tmpDir: spoolDir });
    await expect(broken.upload('iris.csv', fixture('iris.csv'))).rejects.toThrow(/bucket is gone/);
    await expectStoresUnchanged();
  });

  it('an unwritable spool folder is STORE_FAILURE', async () => {
    const broken = new DatasetCatalog({ metadata, artifacts, tmpDir: join(spoolDir, 'missing') });
    await expectRegistryError(broken.upload('iris.csv', fixture('iris.csv')), 'STORE_FAILURE', /spool file/);
    await expectStoresUnchanged();
  });
});

describe('DatasetCatalog reads', () => {
  it('get returns null for an unknown dataset or version', async () => {
    expect(await catalog.get('nope')).toBeNull();
    await catalog.upload('iris.csv', fixture('iris.csv'));
    expect(await catalog.get('iris', 2)).toBeNull();
  });

  it('names and versions are validated: INVALID_ARGUMENT', async () => {
    await expectRegistryError(catalog.get('bad name'), 'INVALID_ARGUMENT', /dataset name "bad name"/);
    await expectRegistryError(catalog.get('iris', 0), 'INVALID_ARGUMENT', /dataset version/);
    await expectRegistryError(catalog.load('../etc'), 'INVALID_ARGUMENT');
    await expectRegistryError(catalog.versions(''), 'INVALID_ARGUMENT');
  });

  it('list returns the latest version of every dataset, sorted by name', async () => {
    await catalog.upload('wine.csv', fixture('wine.csv'));
    await catalog.upload('iris.csv', fixture('iris.csv'));
    await catalog.upload('iris.csv', 'a\n1\n');
    expect((await catalog.list()).map((d) => [d.name, d.version])).toEqual([
      ['iris', 2],
      ['wine', 1],
    ]);
  });

  it('load returns a typed table of the recorded version', async () => {
    await catalog.upload('diabetes.csv', fixture('diabetes.csv'));
    const table = await catalog.load('diabetes');
    expect(table.rowCount).toBe(442);
    expect(table.data.age?.slice(0, 2)).toEqual([59, 48]);
    expect(table.data.bmi?.slice(0, 2)).toEqual([32.1, 21.6]);
    expect(table.columns.find((c) => c.name === 'sex')?.type).toBe('integer');
  });

  it('load of an unknown dataset or version is NOT_FOUND naming it', async () => {
    await expectRegistryError(catalog.load('ghost'), 'NOT_FOUND', /dataset "ghost" does not exist/);
    await catalog.upload('iris.csv', fixture('iris.csv'));
    await expectRegistryError(catalog.load('iris', 3), 'NOT_FOUND', /dataset "iris" has no version 3/);
  });

  it('a flipped byte in the stored CSV is INTEGRITY on load and loadRaw', async () => {
    const ds = await catalog.upload('iris.csv', fixture('iris.csv'));
    const bytes = (await artifacts.get(ds.key)) as Uint8Array;
    bytes[100] = (bytes[100] as number) ^ 0x01;
    await artifacts.put(ds.key, bytes);
    await expectRegistryError(catalog.load('iris'), 'INTEGRITY', /do not match the record/);
    await expectRegistryError(catalog.loadRaw('iris'), 'INTEGRITY', /do not match the record/);
  });

  it('a stored CSV corrupted into a parse error is still reported as INTEGRITY', async () => {
    const ds = await catalog.upload('t', 'a,b\n1,2\n3,4\n');
    await artifacts.put(ds.key, 'a,b\n1,2\n3,4,5\n');
    await expectRegistryError(catalog.load('t'), 'INTEGRITY');
  });

  it('a missing stored file is INTEGRITY', async () => {
    const ds = await catalog.upload('iris.csv', fixture('iris.csv'));
    await artifacts.delete(ds.key);
    await expectRegistryError(catalog.load('iris'), 'INTEGRITY', /is missing/);
  });

  it('loadRaw returns the verified bytes', async () => {
    await catalog.upload('iris.csv', fixture('iris.csv'));
    const { dataset, bytes } = await catalog.loadRaw('iris');
    expect(dataset.version).toBe(1);
    expect(Buffer.from(bytes)).toEqual(Buffer.from(fixture('iris.csv')));
  });
});

describe('DatasetCatalog.delete', () => {
  it('soft-deletes one version; the latest live version is served', async () => {
    await catalog.upload('iris.csv', fixture('iris.csv'));
    await catalog.upload('iris.csv', 'a\n1\n');
    await catalog.delete('iris', 2);
    expect((await catalog.get('iris'))?.version).toBe(1);
    expect(await catalog.get('iris', 2)).toBeNull();
    expect((await catalog.load('iris')).rowCount).toBe(150);
  });

  it('soft-deletes every version when none is given; a re-upload gets a new number', async () => {
    await catalog.upload('iris.csv', fixture('iris.csv'));
    await catalog.delete('iris');
    expect(await catalog.get('iris')).toBeNull();
    expect(await catalog.list()).toEqual([]);
    const again = await catalog.upload('iris.csv', fixture('iris.csv'));
    expect(again).toMatchObject({ version: 2, created: true });
    expect((await catalog.load('iris')).rowCount).toBe(150);
  });

  it('delete of an unknown dataset or version is NOT_FOUND naming it', async () => {
    await expectRegistryError(catalog.delete('ghost'), 'NOT_FOUND', /dataset "ghost" does not exist/);
    await catalog.upload('iris.csv', fixture('iris.csv'));
    await expectRegistryError(catalog.delete('iris', 5), 'NOT_FOUND', /dataset "iris" has no version 5/);
  });
});
