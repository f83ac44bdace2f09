export { normalizeDatasetName } from './normalize-name.js';
export { readCsv, readCsvText, readCsvRecords, MAX_ROW_CHARS } from './csv.js';
export type { ValueRules } from './values.js';
export type { CsvSource, CsvReadOptions, CsvReadResult } from './csv.js';
export {
  createColumnProfiler,
  inferColumns,
  profileCsv,
  categoricalLimit,
  DISTINCT_EXACT_LIMIT,
  DISTINCT_EXACT_CHARS,
  CATEGORICAL_MIN_LIMIT,
  CATEGORICAL_RATIO,
  MAX_CATEGORIES,
} from './infer-schema.js';
export type { ColumnProfiler, CsvProfile } from './infer-schema.js';
export { loadTable, tableFromRecords } from './table.js';
export {
  MISSING_MARKERS,
  VALUE_RULES_VERSION,
  DEFAULT_VALUE_RULES,
  isMissingCsvCell,
  parseBoolean,
  parseDateTime,
  parseInteger,
  parseNumber,
} from './values.js';
export { DatasetCatalog, datasetKey } from './dataset-catalog.js';
export type { DatasetCatalogOptions, DatasetUpload } from './dataset-catalog.js';
