import { fmtNumber } from '../format.js';

/**
 * A confusion matrix as a heat map: a table whose cells are shaded by their share of the row (true
 * class), so the diagonal stands out; the counts are written in every cell.
 */
export function ConfusionHeatmap({
  labels,
  matrix,
}: {
  labels: (string | number | boolean)[];
  matrix: number[][];
}) {
  const names = labels.map(String);
  return (
    <div className="heatmap-wrap">
      <table className="heatmap" data-testid="confusion-matrix">
        <caption>Rows: true class; columns: predicted class. Shade: share of the row.</caption>
        <thead>
          <tr>
            <th scope="col">
              <span className="visually-hidden">true \ predicted</span>
            </th>
            {names.map((n) => (
              <th scope="col" key={n}>
                {n}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => {
            const total = row.reduce((a, b) => a + b, 0) || 1;
            return (
              <tr key={names[i] ?? i}>
                <th scope="row">{names[i] ?? i}</th>
                {row.map((count, j) => {
                  const share = count / total;
                  return (
                    <td
                      key={j}
                      className={i === j ? 'diag' : undefined}
                      style={{
                        background: `rgba(31, 95, 191, ${(0.08 + 0.85 * share).toFixed(3)})`,
                        color: share > 0.5 ? '#fff' : 'inherit',
                      }}
                      title={`${names[i]} predicted as ${names[j]}: ${count} (${Math.round(share * 100)} % of the row)`}
                    >
                      {count}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

/** Horizontal bars, largest first (feature importances); the value is written beside each bar. */
export function BarChart({ items, testId }: { items: { label: string; value: number }[]; testId?: string }) {
  const sorted = [...items].sort((a, b) => b.value - a.value);
  const max = Math.max(...sorted.map((i) => Math.abs(i.value)), Number.MIN_VALUE);
  return (
    <ol className="bars" data-testid={testId}>
      {sorted.map((i) => (
        <li key={i.label}>
          <span className="bar-label">{i.label}</span>
          <span className="bar-track" aria-hidden="true">
            <span className="bar" style={{ width: `${(Math.abs(i.value) / max) * 100}%` }} />
          </span>
          <span className="bar-value num">{fmtNumber(i.value)}</span>
        </li>
      ))}
    </ol>
  );
}
