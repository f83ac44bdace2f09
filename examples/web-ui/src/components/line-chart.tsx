import { useEffect, useMemo, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { fmtNumber } from '../format.js';

export interface ChartSeries {
  label: string;
  points: { x: number; y: number }[];
}

/** Distinguishable on white, and in grey scale by their dash patterns. */
const COLORS = ['#1f5fbf', '#c2410c', '#15803d', '#7e22ce', '#b91c1c', '#0e7490', '#a16207', '#475569'];
const DASHES: number[][] = [[], [6, 3], [2, 3], [8, 3, 2, 3]];

/** Aligns series on the union of their x values (uPlot's data layout); gaps are `null`. */
function align(series: ChartSeries[]): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map((p) => p.x)))].sort((a, b) => a - b);
  const ys = series.map((s) => {
    const byX = new Map(s.points.map((p) => [p.x, p.y]));
    return xs.map((x) => byX.get(x) ?? null);
  });
  return [xs, ...ys];
}

/**
 * A line chart (uPlot, drawn on a canvas) of one value over steps for one or more series. The
 * figure carries `data-series` and `data-points` (points drawn), and the values are also in a
 * table under "Show data" for keyboard and screen-reader users.
 */
export function LineChart({
  title,
  series,
  xLabel = 'step',
  height = 220,
  testId,
}: {
  title: string;
  series: ChartSeries[];
  xLabel?: string;
  height?: number;
  testId?: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const data = useMemo(() => align(series), [series]);
  const points = series.reduce((n, s) => n + s.points.length, 0);

  useEffect(() => {
    const el = host.current;
    if (!el || points === 0) return;
    const width = Math.max(240, el.clientWidth);
    const plot = new uPlot(
      {
        width,
        height,
        scales: { x: { time: false } },
        legend: { show: series.length > 1 },
        cursor: { drag: { x: false, y: false } },
        series: [
          { label: xLabel },
          ...series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length],
            width: 2,
            dash: DASHES[i % DASHES.length],
            spanGaps: true,
            points: { show: true, size: 6 },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : fmtNumber(v)),
          })),
        ],
        axes: [
          // Steps are whole numbers: no ticks between them.
          {
            label: xLabel,
            size: 40,
            incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 100_000],
          },
          { size: 56, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => fmtNumber(t)) },
        ],
      },
      data,
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(240, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [data, height, points, series, xLabel]);

  const xs = data[0] as number[];
  return (
    <figure className="chart" data-testid={testId} data-series={series.length} data-points={points}>
      <figcaption>{title}</figcaption>
      {points === 0 ? (
        <p className="state state-empty">No points to plot.</p>
      ) : (
        <div
          ref={host}
          className="chart-canvas"
          role="img"
          aria-label={`${title}: line chart over ${xLabel}`}
        />
      )}
      {points > 0 ? (
        <details>
          <summary>Show data</summary>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">{xLabel}</th>
                  {series.map((s) => (
                    <th scope="col" key={s.label}>
                      {s.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {xs.map((x, row) => (
                  <tr key={x}>
                    <th scope="row">{x}</th>
                    {series.map((s, i) => (
                      <td key={s.label}>{fmtNumber((data[i + 1] as (number | null)[])[row])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      ) : null}
    </figure>
  );
}
