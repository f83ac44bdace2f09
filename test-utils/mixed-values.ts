/**
 * A CSV that exercises every value rule at once (issue 11, acceptance 1): `NA` / `N/A` / `n/a` /
 * empty cells, `yes`/`no` and `true`/`false` booleans in mixed case, datetimes with and without an
 * offset, and categories. The label depends on the UTC hour of `when`, so reading an offset-less
 * datetime in local time (5 hours off under `TZ=America/New_York`) changes predictions.
 */

/** Columns of {@link mixedValuesCsv}; `when` must be named in `features` to be used (datetimes are not defaults). */
export const MIXED_FEATURES = ['when', 'flag', 'size', 'color'] as const;
export const MIXED_TARGET = 'label';

const MISSING = ['NA', 'N/A', '', 'n/a'];
const COLORS = ['red', 'green', 'blue'];
const FLAGS = ['yes', 'no', 'true', 'false', 'YES', 'False'];

/** mulberry32: the same seed gives the same CSV on every run and machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** `rows` data rows; every 11th cell of a feature column is missing, spelled one of four ways. */
export function mixedValuesCsv(rows = 240, seed = 11): string {
  const next = random(seed);
  const lines = [[...MIXED_FEATURES, MIXED_TARGET].join(',')];
  for (let i = 0; i < rows; i++) {
    const utcMinutes = Math.floor(next() * 24 * 60);
    const hour = Math.floor(utcMinutes / 60);
    const minute = utcMinutes % 60;
    const style = i % 4;
    let when: string;
    if (style === 0 || style === 1) when = `2024-03-10 ${pad(hour)}:${pad(minute)}`;
    else if (style === 2) when = `2024-03-10T${pad(hour)}:${pad(minute)}:00Z`;
    else {
      // The same instant written with a +02:00 offset (local hour = UTC hour + 2, on the same or the next day).
      const local = utcMinutes + 120;
      const day = local >= 24 * 60 ? 11 : 10;
      const lm = local % (24 * 60);
      when = `2024-03-${day}T${pad(Math.floor(lm / 60))}:${pad(lm % 60)}:00+02:00`;
    }
    const flagTrue = next() < 0.5;
    const flag = FLAGS[(flagTrue ? 0 : 1) + 2 * Math.floor(next() * 3)]!;
    const size = (next() * 10).toFixed(2);
    const color = COLORS[Math.floor(next() * COLORS.length)]!;
    const label = hour >= 12 ? (flagTrue ? 'pm_on' : 'pm_off') : 'am';
    const cells = [when, flag, size, color].map((cell, j) =>
      (i + 3 * j) % 11 === 0 ? MISSING[(i + j) % MISSING.length]! : cell,
    );
    lines.push([...cells, label].join(','));
  }
  return `${lines.join('\n')}\n`;
}
