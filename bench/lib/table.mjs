/** Prints rows (arrays of cells) as a plain-text table under `headers`; numbers right-aligned. */
export function printTable(title, headers, rows) {
  const cells = [headers, ...rows].map((row) =>
    row.map((c) => (c === undefined || c === null ? '—' : String(c))),
  );
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => row[i]?.length ?? 0)));
  const line = (row, isHeader) =>
    row
      .map((c, i) =>
        !isHeader && /^[-+]?[\d.,]+[a-zA-Z/%×]*$/.test(c) ? c.padStart(widths[i]) : c.padEnd(widths[i]),
      )
      .join('  ');
  console.log(`\n${title}`);
  console.log(line(cells[0], true));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells.slice(1)) console.log(line(row, false));
}

export const seconds = (s) =>
  s === undefined ? undefined : s < 10 ? s.toFixed(2) + 's' : s.toFixed(1) + 's';
export const fixed = (v, d = 4) => (v === undefined ? undefined : v.toFixed(d));
export const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1) + 'MB';
