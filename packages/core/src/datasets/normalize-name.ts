import { nameSchema } from '../domain/names.js';
import { describeValue, invalidInput } from '../domain/parse.js';
import { RegistryError } from '../errors.js';

const EXTENSION = /\.(csv|tsv|txt)$/i;

/**
 * Turns a file name (or a plain name) into a dataset name:
 *
 * 1. the directory part is dropped (`/` and `\` both separate folders);
 * 2. one trailing `.csv`, `.tsv` or `.txt` extension is dropped (case-insensitive);
 * 3. accents are folded (`é` → `e`) and the name is lowercased;
 * 4. every run of characters outside `[a-z0-9._-]` becomes one `_`;
 * 5. `_` and `.` are trimmed from both ends.
 *
 * `My DataSet.csv` → `my_dataset`, `data/Iris (v2).CSV` → `iris_v2`.
 *
 * @throws RegistryError `INVALID_ARGUMENT` naming the input when it is not a string or the result is
 *   not a valid name (empty, or longer than 128 characters).
 */
export function normalizeDatasetName(fileNameOrName: string): string {
  if (typeof fileNameOrName !== 'string') {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `dataset name must be a string, got ${describeValue(fileNameOrName)}`,
      {
        where: 'datasets',
      },
    );
  }
  const base = fileNameOrName.split(/[/\\]/).at(-1) ?? '';
  const normalized = base
    .replace(EXTENSION, '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '_')
    .replace(/^[_.]+|[_.]+$/g, '');
  const result = nameSchema.safeParse(normalized);
  if (result.success) return result.data;
  throw invalidInput(result.error, {
    what: `the dataset name derived from ${describeValue(fileNameOrName)}`,
    where: 'datasets',
    value: normalized,
  });
}
