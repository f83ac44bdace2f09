// Formatting of numbers, times and sizes for tables.

export const fmtNumber = (v: number | undefined | null): string => {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e6)) return v.toExponential(3);
  return String(Number(v.toPrecision(4)));
};

export const fmtTime = (ms: number | null | undefined): string =>
  ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString();

/** An epoch-ms value of a datetime column, in UTC: `2024-01-02` at midnight, else `2024-01-02 13:45:00`. */
export const fmtDate = (ms: number): string => {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.slice(0, 19).replace('T', ' ');
};

export function fmtAgo(ms: number, now = Date.now()): string {
  const s = Math.round((now - ms) / 1000);
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 45) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h} h ago`;
  return `${Math.round(h / 24)} days ago`;
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** One line describing a stage or alias move. */
export function describeMove(e: {
  kind: string;
  version: number;
  fromStage: string | null;
  toStage: string | null;
  alias: string | null;
  fromVersion: number | null;
}): string {
  if (e.kind === 'stage') return `version ${e.version}: ${e.fromStage ?? '—'} → ${e.toStage ?? '—'}`;
  if (e.kind === 'alias_set')
    return e.fromVersion === null
      ? `@${e.alias ?? ''} set to version ${e.version}`
      : `@${e.alias ?? ''} moved from version ${e.fromVersion} to ${e.version}`;
  return `@${e.alias ?? ''} removed (was version ${e.version})`;
}

/** `record[key]` for own keys only: a metric or param named `constructor` is data, not `Object.prototype`'s. */
export const own = <V>(record: Readonly<Record<string, V>>, key: string): V | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;
