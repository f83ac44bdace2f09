import { useEffect, useState } from 'react';
import type { MetricPoint, ModelInfo, RunDetail } from '../api.js';
import { api, artifactUrl, seg } from '../api.js';
import { StageBadge, TableWrap } from '../components/bits.js';
import { LineChart } from '../components/line-chart.js';
import { Async } from '../components/states.js';
import { fmtBytes, fmtNumber, fmtTime, own } from '../format.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';
import { DatasetLink, VersionLink } from '../lineage/lineage-links.js';
import { datasetOf, lineageQueries, useLineage } from '../lineage/lineage.js';

/** The full history of each metric of a run (for the small charts); failures leave a metric out. */
function useMetricHistories(runId: string, keys: string[]): Record<string, MetricPoint[]> {
  const [histories, setHistories] = useState<Record<string, MetricPoint[]>>({});
  const joined = keys.join(',');
  useEffect(() => {
    if (!joined) return;
    let live = true;
    Promise.all(
      joined.split(',').map((k) =>
        api.get<{ history: MetricPoint[] }>(`runs/${seg(runId)}/metrics/${seg(k)}`).then(
          (d) => [k, d.history] as const,
          () => null,
        ),
      ),
    ).then((pairs) => {
      if (live) setHistories(Object.fromEntries(pairs.filter((p) => p !== null)));
    });
    return () => {
      live = false;
    };
  }, [runId, joined]);
  return histories;
}

export function KeyValues({
  label,
  values,
  numeric = false,
}: {
  label: string;
  values: Record<string, string>;
  numeric?: boolean;
}) {
  const entries = Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <p className="muted">None.</p>;
  return (
    <TableWrap label={label}>
      <table className="data-table kv">
        <tbody>
          {entries.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td className={numeric ? 'num' : 'wrap'}>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function Signature({ model }: { model: ModelInfo }) {
  const { inputs, output } = model.signature;
  return (
    <>
      <p>
        A <strong>{model.task}</strong> model of <code>{model.target}</code>, trained with{' '}
        <code>{model.trainer.name}</code>. Output:{' '}
        {output.type === 'label' ? `one of ${(output.classes ?? []).map(String).join(', ')}` : 'a number'}.
      </p>
      <TableWrap label="Model inputs">
        <table className="data-table" data-testid="signature">
          <caption>Inputs, in model order (all accept null: filled as in training)</caption>
          <thead>
            <tr>
              <th scope="col">Input</th>
              <th scope="col">Type</th>
              <th scope="col">Categories</th>
            </tr>
          </thead>
          <tbody>
            {inputs.map((i) => (
              <tr key={i.name}>
                <th scope="row">{i.name}</th>
                <td>{i.type}</td>
                <td className="wrap">{i.categories?.join(', ') ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
    </>
  );
}

function Metrics({ runId, latest }: { runId: string; latest: Record<string, number> }) {
  const keys = Object.keys(latest).sort();
  const histories = useMetricHistories(runId, keys);
  if (keys.length === 0) return <p className="muted">No metrics.</p>;
  const charted = keys.filter((k) => (own(histories, k)?.length ?? 0) > 1);
  return (
    <>
      <TableWrap label="Metrics">
        <table className="data-table kv">
          <thead>
            <tr>
              <th scope="col">Metric</th>
              <th scope="col" className="num">
                Latest
              </th>
              <th scope="col" className="num">
                Points
              </th>
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k}>
                <th scope="row">{k}</th>
                <td className="num">{fmtNumber(own(latest, k))}</td>
                <td className="num">{own(histories, k)?.length ?? '…'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <div className="chart-grid">
        {charted.map((k) => (
          <LineChart
            key={k}
            title={k}
            testId={`metric-chart-${k}`}
            height={160}
            series={[{ label: k, points: (own(histories, k) ?? []).map((p) => ({ x: p.step, y: p.value })) }]}
          />
        ))}
      </div>
    </>
  );
}

/** Where the run's data came from and what it became: "trained on iris v1", "registered as iris v2". */
function RunLineage({ run }: { run: RunDetail['run'] }) {
  const { index } = useLineage();
  const dataset = datasetOf(run);
  const versions = index ? lineageQueries.versionsOfRun(index, run.id) : [];
  return (
    <p className="lineage-line" data-testid="run-lineage">
      {dataset ? (
        <>
          Trained on <DatasetLink dataset={dataset} />.{' '}
        </>
      ) : null}
      {!index ? (
        <span className="muted">Reading the registered versions…</span>
      ) : versions.length ? (
        <>
          Registered as{' '}
          {versions.map((v, i) => (
            <span key={`${v.name}/${v.version}`}>
              {i ? ', ' : ''}
              <VersionLink version={v} /> <StageBadge stage={v.stage} />
            </span>
          ))}
          .
        </>
      ) : (
        <span className="muted">Not registered as a model version.</span>
      )}
    </p>
  );
}

export function RunPage({ id }: { id: string }) {
  useTitle(`Run ${id.slice(0, 8)}`);
  const detail = useApi<RunDetail>(`runs/${seg(id)}`);
  return (
    <Async state={detail} what="the run">
      {({ run, experiment, artifacts, model }) => (
        <>
          <nav aria-label="Breadcrumb" className="breadcrumbs">
            <a href={to.experiments()}>Experiments</a> <span aria-hidden="true">/</span>{' '}
            {experiment ? <a href={to.runs(experiment)}>{experiment}</a> : '?'}{' '}
            <span aria-hidden="true">/</span> <span>{run.name}</span>
          </nav>
          <h1>Run {run.name}</h1>
          <p className="muted">
            <code>{run.id}</code> · {run.status} · started {fmtTime(run.startTime)}
            {run.endTime ? ` · ended ${fmtTime(run.endTime)}` : ''}
          </p>
          <RunLineage run={run} />
          <div className="grid">
            <section className="card" aria-labelledby="params-heading">
              <h2 id="params-heading">Params</h2>
              <KeyValues label="Params" values={run.params} />
            </section>
            <section className="card" aria-labelledby="tags-heading">
              <h2 id="tags-heading">Tags</h2>
              <KeyValues label="Tags" values={run.tags} />
            </section>
            <section className="card span-2" aria-labelledby="metrics-heading">
              <h2 id="metrics-heading">Metrics</h2>
              <Metrics runId={run.id} latest={run.latestMetrics} />
            </section>
            <section className="card span-2" aria-labelledby="artifacts-heading">
              <h2 id="artifacts-heading">Artifacts</h2>
              {artifacts.length === 0 ? (
                <p className="muted">No artifacts.</p>
              ) : (
                <ul className="artifact-list" data-testid="artifacts">
                  {artifacts.map((a) => (
                    <li key={a.path}>
                      <a href={artifactUrl(run.id, a.path)} download={a.path.split('/').at(-1)}>
                        {a.path}
                      </a>{' '}
                      <span className="muted small">
                        {fmtBytes(a.size)} · sha256 <code title={a.sha256}>{a.sha256.slice(0, 12)}…</code>
                      </span>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section className="card span-2" aria-labelledby="model-heading">
              <h2 id="model-heading">Model signature</h2>
              {model ? <Signature model={model} /> : <p className="muted">This run logged no model.</p>}
            </section>
          </div>
        </>
      )}
    </Async>
  );
}
