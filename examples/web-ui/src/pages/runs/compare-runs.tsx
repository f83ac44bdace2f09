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

/** Selected runs side by side (params, then metrics; differing params marked) and a chart of one metric. */
export function CompareRuns({
  runs,
  metricKeys,
  onClose,
}: {
  runs: Run[];
  metricKeys: string[];
  onClose: () => void;
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
        <button type="button" onClick={onClose}>
          Close comparison
        </button>
      </div>
      <TableWrap label="Runs side by side">
        <table className="data-table compare-table">
          <thead>
            <tr>
              <th scope="col">Field</th>
              {runs.map((r) => (
                <th scope="col" key={r.id}>
                  <a href={to.run(r.id)}>{r.name}</a>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            <tr>
              <th scope="row">started</th>
              {runs.map((r) => (
                <td key={r.id}>{fmtTime(r.startTime)}</td>
              ))}
            </tr>
            {paramKeys.map((k) => (
              <tr key={`p-${k}`} className={differs(k) ? 'differs' : undefined}>
                <th scope="row">
                  param {k}
                  {differs(k) ? <span className="visually-hidden"> (differs)</span> : null}
                </th>
                {runs.map((r) => (
                  <td key={r.id}>{own(r.params, k) ?? '—'}</td>
                ))}
              </tr>
            ))}
            {metricKeys.map((k) => (
              <tr key={`m-${k}`}>
                <th scope="row">metric {k}</th>
                {runs.map((r) => (
                  <td key={r.id} className="num">
                    {fmtNumber(own(r.latestMetrics, k))}
                  </td>
                ))}
              </tr>
            ))}
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
