/**
 * The job format of the prediction worker, shared by its NDJSON file mode and the NATS consumer:
 * one JSON object per job (one line of NDJSON, or one message body).
 *
 * - A **record**: `{ "sepal_length_cm": 5.1, ... }` — the features of one row. An `"id"` key (a
 *   string or a number), when present, is echoed in the result; other extra keys are ignored by
 *   the model.
 * - A **batch**: `{ "id": "b-7", "rows": [ {...}, {...} ] }` — several rows predicted together;
 *   `rows` may also be number arrays in the model's feature order. `id` is optional.
 */
export type JobId = string | number;
export type BatchRows = Array<Record<string, unknown>> | unknown[][];

export type Job =
  | { kind: 'record'; line: number; id?: JobId; row: Record<string, unknown> }
  | { kind: 'batch'; line: number; id?: JobId; rows: BatchRows };

/** A line that is not a job: it becomes an error result, and the worker goes on. */
export interface BadLine {
  kind: 'invalid';
  line: number;
  id?: JobId;
  error: string;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isId = (v: unknown): v is JobId =>
  (typeof v === 'string' && v.length <= 256) || (typeof v === 'number' && Number.isFinite(v));

function batchProblem(record: Record<string, unknown>): string | null {
  const extra = Object.keys(record).filter((k) => k !== 'id' && k !== 'rows');
  if (extra.length > 0) return `unexpected key(s) ${extra.map((k) => JSON.stringify(k)).join(', ')}`;
  const { rows } = record;
  if (!Array.isArray(rows) || rows.length === 0) return '"rows" must be a non-empty array';
  const records = rows.every(isObject);
  const arrays = rows.every((r) => Array.isArray(r));
  if (!records && !arrays) return '"rows" must hold only records or only number arrays';
  return null;
}

/** Parses one input line (1-based `line`); `null` for a blank line. */
export function parseJobLine(text: string, line: number): Job | BadLine | null {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (e) {
    return { kind: 'invalid', line, error: `line ${line} is not valid JSON: ${(e as Error).message}` };
  }
  if (!isObject(value)) {
    return {
      kind: 'invalid',
      line,
      error: `line ${line} must be a JSON object (a record, or { "rows": [...] })`,
    };
  }
  const id = isId(value.id) ? value.id : undefined;
  const withId = id !== undefined ? { id } : {};
  if ('rows' in value) {
    const problem = batchProblem(value);
    if (problem) {
      return {
        kind: 'invalid',
        line,
        ...withId,
        error: `line ${line}: a batch is { "id"?: string | number, "rows": [records or number arrays] }: ${problem}`,
      };
    }
    return { kind: 'batch', line, ...withId, rows: value.rows as BatchRows };
  }
  return { kind: 'record', line, ...withId, row: value };
}
