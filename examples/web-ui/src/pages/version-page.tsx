import { useEffect, useState } from 'react';
import type { HistoryEntry, ModelInfo, ModelVersion, RunDetail } from '../api.js';
import { api, artifactUrl, seg } from '../api.js';
import { AliasChip, StageBadge, TableWrap } from '../components/bits.js';
import { BarChart, ConfusionHeatmap } from '../components/charts.js';
import { EditableMeta } from '../components/edit-meta.js';
import { Async } from '../components/states.js';
import { useCanEdit } from '../components/who.js';
import { describeMove, fmtBytes, fmtNumber, fmtTime } from '../format.js';
import { useApi, useTitle } from '../hooks.js';
import { LineagePanel } from '../lineage/lineage-links.js';
import { useLineage } from '../lineage/lineage.js';
import { useLiveEvents } from '../live.js';
import { to } from '../router.js';
import { KeyValues, Signature } from './run-page.js';

/** The run folder and model folder a version's files came from (`runs:/<id>/<path>`), if any. */
const runSource = (v: ModelVersion): { runId: string; folder: string } | null => {
  const m = /^runs:\/([^/]+)\/(.+)$/.exec(v.source);
  return m ? { runId: m[1]!, folder: m[2]! } : null;
};

const formatOf = (path: string): string | null =>
  path.endsWith('.onnx') ? 'ONNX' : path.endsWith('.native.json') ? 'native JSON' : null;

type Importance = { label: string; value: number }[];

const barsOf = (values: unknown): Importance =>
  typeof values === 'object' && values !== null
    ? Object.entries(values as Record<string, unknown>)
        .flatMap(([label, value]) => (typeof value === 'number' ? [{ label, value }] : []))
        .sort((x, y) => y.value - x.value)
    : [];

/**
 * The feature importances MODEL.json records (`importance`): the trainer's gain (split gain of the
 * trees, or |coefficient| on the standardised scale for linear models) and the permutation
 * importance measured on the test split (the mean drop of the held-out metric).
 */
export function importanceOf(manifest: Record<string, unknown>): { title: string; items: Importance }[] {
  const raw = manifest['importance'];
  if (typeof raw !== 'object' || raw === null) return [];
  const { gain, permutation } = raw as {
    gain?: { method?: unknown; values?: unknown };
    permutation?: { metric?: unknown; mean?: unknown };
  };
  const charts: { title: string; items: Importance }[] = [];
  const gainBars = barsOf(gain?.values);
  if (gainBars.length) charts.push({ title: `Gain (${String(gain?.method ?? 'model')})`, items: gainBars });
  const permutationBars = barsOf(permutation?.mean);
  if (permutationBars.length)
    charts.push({
      title: `Permutation, drop of held-out ${String(permutation?.metric ?? 'score')}`,
      items: permutationBars,
    });
  return charts;
}

/** Reads a JSON artifact of a run; `null` when it is not there or not JSON. */
function useArtifactJson<T>(runId: string | null, path: string | null): T | null | undefined {
  const [value, setValue] = useState<T | null | undefined>(undefined);
  useEffect(() => {
    if (!runId || !path) {
      setValue(null);
      return;
    }
    let live = true;
    api.get<T>(artifactUrl(runId, path)).then(
      (v) => live && setValue(v),
      () => live && setValue(null),
    );
    return () => {
      live = false;
    };
  }, [runId, path]);
  return value;
}

function Files({ version }: { version: ModelVersion }) {
  const source = runSource(version);
  return (
    <TableWrap label="Files">
      <table className="data-table cards" data-testid="version-files">
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col">Format</th>
            <th scope="col" className="num">
              Size
            </th>
            <th scope="col">sha256</th>
          </tr>
        </thead>
        <tbody>
          {version.files.map((f) => (
            <tr key={f.path}>
              <th scope="row" data-label="File">
                {source ? (
                  <a
                    href={artifactUrl(source.runId, `${source.folder}/${f.path}`)}
                    download={f.path.split('/').at(-1)}
                  >
                    {f.path}
                  </a>
                ) : (
                  f.path
                )}
              </th>
              <td data-label="Format">{formatOf(f.path) ?? 'metadata'}</td>
              <td data-label="Size" className="num">
                {fmtBytes(f.size)}
              </td>
              <td data-label="sha256">
                <code className="hash" title={f.sha256}>
                  {f.sha256}
                </code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

export function VersionPage({ name, version }: { name: string; version: number }) {
  useTitle(`${name} v${version}`);
  const canEdit = useCanEdit()(name);
  const tick = useLiveEvents(
    ['version.stage_changed', 'version.updated', 'alias.set', 'alias.deleted'],
    name,
  );
  const base = `models/${seg(name)}/versions/${version}`;
  const v = useApi<ModelVersion>(base, tick);
  const history = useApi<{ history: HistoryEntry[] }>(`models/${seg(name)}/history?version=${version}`, tick);
  const runId = v.data?.runId ?? null;
  const run = useApi<RunDetail>(runId ? `runs/${seg(runId)}` : null);
  const signature = useApi<{ model: ModelInfo }>(v.data ? `${base}/signature` : null);
  const source = v.data ? runSource(v.data) : null;
  const confusion = useArtifactJson<{ labels: (string | number | boolean)[]; matrix: number[][] }>(
    source?.runId ?? null,
    source ? 'confusion_matrix.json' : null,
  );
  const manifest = useArtifactJson<Record<string, unknown>>(
    source?.runId ?? null,
    source && v.data?.files.some((f) => f.path === 'MODEL.json') ? `${source.folder}/MODEL.json` : null,
  );
  const importance = manifest ? importanceOf(manifest) : [];
  const { index } = useLineage();

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <a href={to.models()}>Models</a> <span aria-hidden="true">/</span> <a href={to.model(name)}>{name}</a>{' '}
        <span aria-hidden="true">/</span> <span>v{version}</span>
      </nav>
      <Async state={v} what={`${name} version ${version}`}>
        {(mv) => (
          <>
            <div className="page-head">
              <h1>
                {name} v{mv.version}
              </h1>
              <span data-testid="version-stage">
                <StageBadge stage={mv.stage} />
              </span>
              {mv.aliases.map((a) => (
                <AliasChip key={a} alias={a} />
              ))}
            </div>
            <EditableMeta
              path={base}
              what={`${name} v${mv.version}`}
              description={mv.description}
              tags={mv.tags}
              canEdit={canEdit}
              onSaved={v.reload}
            />
            <div className="grid">
              <section className="card span-2" aria-labelledby="lineage-heading">
                <h2 id="lineage-heading">Lineage</h2>
                <LineagePanel index={index} version={mv} />
              </section>
              <section className="card span-2" aria-labelledby="files-heading">
                <h2 id="files-heading">Files</h2>
                <p className="muted small">
                  Formats:{' '}
                  {[...new Set(mv.files.map((f) => formatOf(f.path)).filter(Boolean))].join(', ') || 'none'}.
                  Loading checks each file against its sha256. Created {fmtTime(mv.createdAt)} from{' '}
                  <code>{mv.source}</code>.
                </p>
                <Files version={mv} />
              </section>
              <section className="card span-2" aria-labelledby="signature-heading">
                <h2 id="signature-heading">Signature</h2>
                <Async state={signature} what="the signature">
                  {(s) => <Signature model={s.model} />}
                </Async>
              </section>
              <section className="card" aria-labelledby="metrics-heading">
                <h2 id="metrics-heading">Metrics</h2>
                {run.data ? (
                  <KeyValues
                    label="Metrics"
                    values={Object.fromEntries(
                      Object.entries(run.data.run.latestMetrics).map(([k, n]) => [k, fmtNumber(n)]),
                    )}
                    numeric
                  />
                ) : (
                  <p className="muted">{runId ? 'Loading…' : 'No run.'}</p>
                )}
              </section>
              <section className="card" aria-labelledby="params-heading">
                <h2 id="params-heading">Params</h2>
                {run.data ? (
                  <KeyValues label="Params" values={run.data.run.params} />
                ) : (
                  <p className="muted">{runId ? 'Loading…' : 'No run.'}</p>
                )}
              </section>
              <section className="card" aria-labelledby="confusion-heading">
                <h2 id="confusion-heading">Confusion matrix</h2>
                {confusion ? (
                  <ConfusionHeatmap labels={confusion.labels} matrix={confusion.matrix} />
                ) : (
                  <p className="muted">
                    {confusion === undefined ? 'Loading…' : 'Not recorded (regression, or not trained here).'}
                  </p>
                )}
              </section>
              <section className="card" aria-labelledby="importance-heading">
                <h2 id="importance-heading">Feature importance</h2>
                {importance.length ? (
                  importance.map((chart) => (
                    <div key={chart.title}>
                      <h3>{chart.title}</h3>
                      <BarChart items={chart.items} testId="feature-importance" />
                    </div>
                  ))
                ) : (
                  <p className="muted">
                    {manifest === undefined
                      ? 'Loading…'
                      : 'The trainer recorded no feature importances in MODEL.json.'}
                  </p>
                )}
              </section>
              <section className="card span-2" aria-labelledby="moves-heading">
                <h2 id="moves-heading">Who moved it, and when</h2>
                <Async
                  state={history}
                  what="the history"
                  isEmpty={(d) => d.history.length === 0}
                  empty={<p>No stage or alias move of this version yet.</p>}
                >
                  {(d) => (
                    <ol className="timeline" data-testid="version-history">
                      {[...d.history].reverse().map((e) => (
                        <li key={e.id} className={`timeline-item timeline-${e.kind}`}>
                          <time dateTime={new Date(e.time).toISOString()}>{fmtTime(e.time)}</time>
                          <div className="timeline-what">{describeMove(e)}</div>
                          <div className="muted small">
                            by <strong>{e.actor || 'unknown'}</strong>
                            {e.comment ? <> — “{e.comment}”</> : null}
                          </div>
                        </li>
                      ))}
                    </ol>
                  )}
                </Async>
              </section>
            </div>
          </>
        )}
      </Async>
    </>
  );
}
