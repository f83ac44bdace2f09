import { z } from 'zod';
import { parseStoreOptions } from '@modelreg/core';

const modeSchema = z
  .number()
  .int('must be an integer permission mode')
  .min(0, 'must be a permission mode from 0 to 0o777')
  .max(0o777, 'must be a permission mode from 0 to 0o777')
  .refine((m) => (m & 0o002) === 0, 'must not be world-writable');

/**
 * Options of {@link createFsArtifactStore}.
 *
 * ```ts
 * createFsArtifactStore({ root: './modelreg/artifacts' });
 * createFsArtifactStore({ root: '/srv/modelreg', dirMode: 0o770, fileMode: 0o660 }); // shared by a group
 * ```
 */
export const fsArtifactStoreOptionsSchema = z.object({
  /**
   * The folder that holds every artifact; created (with parents) by `init()`. Relative paths are
   * resolved against the working directory when the store is created. Keys map to files below it:
   * `runs/<id>/artifacts/model/MODEL.json` is `<root>/runs/<id>/artifacts/model/MODEL.json`.
   * Symbolic links inside the root are never followed.
   */
  root: z.string().min(1, 'must not be empty'),
  /** Permission bits of new files, before the umask. Default `0o640`; must not be world-writable. */
  fileMode: modeSchema.default(0o640),
  /** Permission bits of new folders, before the umask. Default `0o750`; must not be world-writable. */
  dirMode: modeSchema.default(0o750),
});

/** What callers pass to {@link createFsArtifactStore}; see {@link fsArtifactStoreOptionsSchema} for each field. */
export type FsArtifactStoreOptions = z.input<typeof fsArtifactStoreOptionsSchema>;
export type ResolvedFsArtifactStoreOptions = z.output<typeof fsArtifactStoreOptionsSchema>;

export function parseFsArtifactStoreOptions(options: unknown): ResolvedFsArtifactStoreOptions {
  return parseStoreOptions(fsArtifactStoreOptionsSchema, options, 'storage-fs');
}
