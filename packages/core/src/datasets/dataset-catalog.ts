import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { nameSchema, parseArg, versionNumberSchema } from '../domain/names.js';
import type { DataTable } from '../domain/table.js';
import type { DatasetVersion } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { ArtifactStore } from '../stores/artifact-store.js';
import type { MetadataStore } from '../stores/metadata-store.js';
import { defaultSpoolDir } from '../stores/spool.js';
import type { CsvSource } from './csv.js';
import { profileCsv } from './infer-schema.js';
import { normalizeDatasetName } from './normalize-name.js';
import { loadTable } from './table.js';

const WHERE = 'datasets';

export interface DatasetCatalogOptions {
  metadata: MetadataStore;
  artifacts: ArtifactStore;
  /** Clock for `createdAt`/`deletedAt`; default `Date.now`. */
  now?: () => number;
  /**
   * An existing folder for upload spool files; default `defaultSpoolDir()` (created when missing),
   * which `registry.gc()` sweeps.
   */
  tmpDir?: string;
}

/** An uploaded dataset version, and whether this upload created it (`false`: the same bytes were already there). */
export type DatasetUpload = DatasetVersion & { created: boolean };

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The artifact key of a dataset file: content-addressed, so equal bytes share one key. */
export const datasetKey = (name: string, sha256: string): string => `datasets/${name}/${sha256}.csv`;

/**
 * The dataset catalog: versioned CSV files with an inferred schema, stored content-addressed in
 * the artifact store (`datasets/<name>/<sha256>.csv`) and recorded in the metadata store.
 */
export class DatasetCatalog {
  private readonly metadata: MetadataStore;
  private readonly artifacts: ArtifactStore;
  private readonly now: () => number;
  private readonly tmpDir: string;
  private readonly ownSpoolDir: boolean;

  constructor(options: DatasetCatalogOptions) {
    this.metadata = options.metadata;
    this.artifacts = options.artifacts;
    this.now = options.now ?? Date.now;
    this.tmpDir = options.tmpDir ?? defaultSpoolDir();
    this.ownSpoolDir = options.tmpDir === undefined;
  }

  /**
   * Uploads a CSV as the next version of the dataset named after `fileNameOrName` (normalized by
   * `normalizeDatasetName`: `My DataSet.csv` → `my_dataset`).
   *
   * The body is read once: it is parsed, profiled (see `createColumnProfiler`) and hashed while its
   * bytes are spooled to a temporary file; memory stays bounded whatever the size. Only when the
   * CSV is valid is the file put under `datasets/<name>/<sha256>.csv` and the version recorded.
   * Bytes equal to a live version return that version with `created: false` and store nothing.
   * On any error nothing is left behind: no artifact, no metadata, no temporary file.
   *
   * @throws RegistryError `INVALID_ARGUMENT` for a bad name or CSV (see `readCsv`), `STORE_FAILURE`
   *   when the temporary file cannot be written, and whatever the stores throw.
   */
  async upload(fileNameOrName: string, body: CsvSource): Promise<DatasetUpload> {
    const name = normalizeDatasetName(fileNameOrName);
    const spool = join(this.tmpDir, `modelreg-upload-${randomUUID()}.csv`);
    let file: FileHandle | undefined;
    try {
      file = await this.spoolFile(spool);
      const handle = file;
      const profile = await profileCsv(body, {
        label: `dataset "${name}"`,
        sink: async (chunk) => {
          try {
            await handle.write(chunk);
          } catch (error) {
            throw new RegistryError(
              'STORE_FAILURE',
              `writing the upload spool file failed: ${message(error)}`,
              {
                where: WHERE,
                cause: error,
              },
            );
          }
        },
      });
      await file.close();
      file = undefined;

      const existing = (await this.metadata.listDatasetVersions(name)).find(
        (d) => d.sha256 === profile.sha256,
      );
      if (existing) return { ...existing, created: false };

      const key = datasetKey(name, profile.sha256);
      const preexisting = (await this.artifacts.head(key)) !== null;
      // The spool is opened here, so a missing file is this call's rejection; a stream opened by
      // path would open on a later tick and could throw with nobody listening (after put failed).
      const spooled = await open(spool, 'r');
      let stored: Awaited<ReturnType<ArtifactStore['put']>>;
      try {
        stored = await this.artifacts.put(key, spooled.createReadStream({ autoClose: false }));
      } finally {
        await spooled.close();
      }
      try {
        if (stored.sha256 !== profile.sha256 || stored.size !== profile.size) {
          throw new RegistryError(
            'INTEGRITY',
            `dataset "${name}": the store wrote ${stored.size} bytes with sha256 ${stored.sha256}, expected ${profile.size} bytes with sha256 ${profile.sha256}`,
            { where: WHERE },
          );
        }
        const { dataset, created } = await this.metadata.createDatasetVersion({
          name,
          sha256: profile.sha256,
          size: profile.size,
          rows: profile.rows,
          columns: profile.columns,
          key,
          originalName: fileNameOrName.split(/[/\\]/).at(-1) ?? fileNameOrName,
          createdAt: this.now(),
        });
        return { ...dataset, created };
      } catch (error) {
        if (!preexisting) await this.removeUnreferenced(name, key, profile.sha256);
        throw error;
      }
    } finally {
      await file?.close().catch(() => undefined);
      await rm(spool, { force: true }).catch(() => undefined);
    }
  }

  /** A live version of a dataset (the latest when `version` is omitted), or `null`. */
  async get(name: string, version?: number): Promise<DatasetVersion | null> {
    this.checkName(name);
    if (version !== undefined) parseArg(versionNumberSchema, version, 'dataset version', WHERE);
    return this.metadata.getDataset(name, version);
  }

  /** The latest live version of every dataset, sorted by name. */
  async list(): Promise<DatasetVersion[]> {
    return this.metadata.listDatasets();
  }

  /** The live versions of a dataset, ascending (empty when it does not exist). */
  async versions(name: string): Promise<DatasetVersion[]> {
    this.checkName(name);
    return this.metadata.listDatasetVersions(name);
  }

  /**
   * Loads a dataset version as a typed table (see `loadTable`), reading the stored CSV as a stream
   * and checking its sha256 and size against the record while it is parsed.
   *
   * @throws RegistryError `NOT_FOUND` for an unknown dataset or version; `INTEGRITY` when the stored
   *   file is missing or its bytes do not match the record.
   */
  async load(name: string, version?: number): Promise<DataTable> {
    const dataset = await this.require(name, version);
    return loadTable(await this.openStored(dataset), dataset.columns, {
      label: `dataset "${dataset.name}" version ${dataset.version}`,
      expected: { sha256: dataset.sha256, size: dataset.size },
    });
  }

  /**
   * The stored CSV bytes of a dataset version, verified against the record's sha256 and size.
   * Reads the whole file into memory; use {@link load} for a typed table.
   *
   * @throws RegistryError `NOT_FOUND` or `INTEGRITY` as {@link load} does.
   */
  async loadRaw(name: string, version?: number): Promise<{ dataset: DatasetVersion; bytes: Uint8Array }> {
    const dataset = await this.require(name, version);
    const bytes = await this.artifacts.get(dataset.key);
    if (!bytes) throw this.missingFile(dataset);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    if (sha256 !== dataset.sha256 || bytes.byteLength !== dataset.size) {
      throw new RegistryError(
        'INTEGRITY',
        `dataset "${dataset.name}" version ${dataset.version}: stored bytes do not match the record (sha256 ${sha256}, ${bytes.byteLength} bytes; expected ${dataset.sha256}, ${dataset.size} bytes)`,
        { where: WHERE },
      );
    }
    return { dataset, bytes };
  }

  /**
   * Soft-deletes one version, or every version when `version` is omitted. The stored files stay
   * until garbage collection. `NOT_FOUND` when the dataset or version does not exist.
   */
  async delete(name: string, version?: number): Promise<void> {
    if (version === undefined) {
      this.checkName(name);
      if ((await this.metadata.listDatasetVersions(name)).length === 0) {
        throw new RegistryError('NOT_FOUND', `dataset "${name}" does not exist`, { where: WHERE });
      }
    } else {
      await this.require(name, version);
    }
    await this.metadata.deleteDataset(name, version, this.now());
  }

  private checkName(name: string): void {
    parseArg(nameSchema, name, 'dataset name', WHERE);
  }

  private async require(name: string, version?: number): Promise<DatasetVersion> {
    const dataset = await this.get(name, version);
    if (dataset) return dataset;
    const what =
      version === undefined
        ? `dataset "${name}" does not exist`
        : `dataset "${name}" has no version ${version}`;
    throw new RegistryError('NOT_FOUND', what, { where: WHERE });
  }

  private async openStored(dataset: DatasetVersion): Promise<Readable> {
    const stream = await this.artifacts.getStream(dataset.key);
    if (!stream) throw this.missingFile(dataset);
    return stream;
  }

  private missingFile(dataset: DatasetVersion): RegistryError {
    return new RegistryError(
      'INTEGRITY',
      `dataset "${dataset.name}" version ${dataset.version}: its file ${dataset.key} is missing from the artifact store`,
      { where: WHERE },
    );
  }

  private async spoolFile(path: string): Promise<FileHandle> {
    try {
      if (this.ownSpoolDir) await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      return await open(path, 'wx', 0o600);
    } catch (error) {
      throw new RegistryError('STORE_FAILURE', `creating the upload spool file failed: ${message(error)}`, {
        where: WHERE,
        cause: error,
      });
    }
  }

  /** After a failed commit: deletes the file unless a live version (e.g. a concurrent upload) refers to it. */
  private async removeUnreferenced(name: string, key: string, sha256: string): Promise<void> {
    try {
      const versions = await this.metadata.listDatasetVersions(name);
      if (!versions.some((d) => d.sha256 === sha256)) await this.artifacts.delete(key);
    } catch {
      // Best effort: an orphan left here is collected by gc.
    }
  }
}
