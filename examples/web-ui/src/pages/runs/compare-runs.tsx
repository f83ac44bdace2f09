import { useEffect, useId, useState } from 'react';
import type { MetricPoint, Run } from '../../api.js';
import { api, seg } from '../../api.js';
import { TableWrap } from '../../components/bits.js';
import type { ChartSeries } from '../../components/line-chart.js';
import { LineChart } from '../../components/line-chart.js';
import { ErrorState, Loading } from '../../components/states.js';
import { fmtNumber, fmtTime, own } from '../../format.js';
import { to } from '../../router.js';

/** The history of `key` for each run, as chart series (one per run, x = step). */
function useHistories(runs: Run[], key: string) {
  const [state, setState] = useState<{ series?: ChartSeries[]; error?: unknown }>({});
  const ids = runs.map((r) => r.id).join(',');
  useEffect(() => {
    if (!key) return;
    let live = true;
    setState({});
    Promise.all(
      runs.map((r) =>
        api
          .get<{ history: MetricPoint[] }>(`runs/${seg(r.id)}/metrics/${seg(key)}`)
          .then((d) => ({ label: r.name, points: d.history.map((p) => ({ x: p.step, y: p.value })) })),
      ),
    ).then(
      (series) => live && setState({ series }),
      (error: unknown) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
    // `ids` stands for `runs`: the same runs in a new array need no new fetch.
  }, [ids, key]);
  return state;
}

/** Whether a smaller value of the metric is better (losses and errors), from its name. */
export const lowerIsBetter = (key: string): boolean => /loss|error|mse|rmse|mae|mape|deviance/i.test(key);

/** The ids of the runs with the best value of `key` (ties all win); none when fewer than two have it. */
export function bestRuns(runs: Run[], key: string): Set<string> {
  const values = runs.flatMap((r) => {
    const v = own(r.latestMetrics, key);
    return v === undefined || Number.isNaN(v) ? [] : [{ id: r.id, v }];
  });
  if (values.length < 2) return new Set();
  const best = lowerIsBetter(key) ? Math.min(...values.map((x) => x.v)) : Math.max(...values.map((x) => x.v));
  return new Set(values.filter((x) => x.v === best).map((x) => x.id));
}

/**
 * Selected runs side by side (params, then metrics; differing params highlighted, the best value of
 * each metric marked) and their curves of one metric overlaid.
 */
export function CompareRuns({
  runs,
  metricKeys,
  onClose,
  labels,
}: {
  runs: Run[];
  metricKeys: string[];
  onClose?: () => void;
  /** Extra text under a run's name (e.g. the model version it became). */
  labels?: Record<string, string>;
}) {
  const selectId = useId();
  const [key, setKey] = useState(metricKeys[0] ?? '');
  const histories = useHistories(runs, key);
  const paramKeys = [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort();
  const differs = (k: string) => new Set(runs.map((r) => own(r.params, k))).size > 1;

  return (
    <section className="card compare" aria-labelledby="compare-heading" data-testid="compare">
      <div className="page-head">
        <h2 id="compare-heading">Comparing {runs.length} runs</h2>
        {onClose ? (
          <button type="button" onClick={onClose}>
            Close comparison
          </button>
        ) : null}
      </div>
      <TableWrap label="Runs side by side">
        <table className="data-table compare-table">
          <thead>
            <tr>
              <th scope="col">Field</th>
              {runs.map((r) => (
                <th scope="col" key={r.id} className="num">
                  <a href={to.run(r.id)}>{r.name}</a>
                  {labels?.[r.id] ? <div className="muted small">{labels[r.id]}</div> : null}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">started</th>
              {runs.map((r) => (
                <td key={r.id} className="num">
                  {fmtTime(r.startTime)}
                </td>
              ))}
            </tr>
            {paramKeys.map((k) => (
              <tr key={`p-${k}`} className={differs(k) ? 'differs' : undefined}>
                <th scope="row">
                  param {k}
                  {differs(k) ? <span className="visually-hidden"> (differs)</span> : null}
                </th>
                {runs.map((r) => (
                  <td key={r.id} className="num">
                    {own(r.params, k) ?? '—'}
                  </td>
                ))}
              </tr>
            ))}
            {metricKeys.map((k) => {
              const best = bestRuns(runs, k);
              return (
                <tr key={`m-${k}`}>
                  <th scope="row">
                    metric {k}{' '}
                    <span className="muted small">({lowerIsBetter(k) ? 'lower' : 'higher'} is better)</span>
                  </th>
                  {runs.map((r) => (
                    <td
                      key={r.id}
                      className={best.has(r.id) ? 'num best' : 'num'}
                      data-best={best.has(r.id) || undefined}
                    >
                      {fmtNumber(own(r.latestMetrics, k))}
                      {best.has(r.id) ? (
                        <span className="best-mark" title="best">
                          {' '}
                          ★<span className="visually-hidden"> best</span>
                        </span>
                      ) : null}
                    </td>
                  ))}
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableWrap>
      {metricKeys.length === 0 ? (
        <p className="muted">These runs logged no metrics.</p>
      ) : (
        <>
          <div className="field inline-field">
            <label htmlFor={selectId}>Metric to plot</label>
            <select id={selectId} value={key} onChange={(e) => setKey(e.target.value)}>
              {metricKeys.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          </div>
          {histories.error ? (
            <ErrorState error={histories.error} what={`the history of ${key}`} />
          ) : histories.series ? (
            <LineChart
              title={`${key} over steps`}
              series={histories.series}
              testId="compare-chart"
              height={280}
            />
          ) : (
            <Loading what={`the history of ${key}`} />
          )}
        </>
      )}
    </section>
  );
}
