import { useCallback, useEffect, useState } from 'react';
import type { HistoryEntry, ModelDetail, ModelVersion, RunDetail } from '../api.js';
import { api, seg } from '../api.js';
import { Async } from '../components/states.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';
import { EditableMeta } from '../components/edit-meta.js';
import { useCanEdit } from '../components/who.js';
import { useLiveEvents } from '../live.js';
import { AliasPanel } from './model/alias-panel.js';
import { CanaryPanel } from './model/canary-panel.js';
import { HistoryTimeline } from './model/history-timeline.js';
import { VersionsTable } from './model/versions-table.js';

/** The latest metrics of the run behind each version (by run id); runs that fail to load are left out. */
function useRunMetrics(versions: ModelVersion[] | undefined): Record<string, Record<string, number>> {
  const [metrics, setMetrics] = useState<Record<string, Record<string, number>>>({});
  const ids = [...new Set((versions ?? []).flatMap((v) => (v.runId ? [v.runId] : [])))].join(',');
  useEffect(() => {
    if (!ids) return;
    let live = true;
    Promise.all(
      ids.split(',').map((id) =>
        api.get<RunDetail>(`runs/${seg(id)}`).then(
          (d) => [id, d.run.latestMetrics] as const,
          () => null,
        ),
      ),
    ).then((pairs) => {
      if (live) setMetrics(Object.fromEntries(pairs.filter((p) => p !== null)));
    });
    return () => {
      live = false;
    };
  }, [ids]);
  return metrics;
}

export function ModelPage({ name }: { name: string }) {
  useTitle(`Model ${name}`);
  const base = `models/${seg(name)}`;
  // A move made elsewhere (another tab, process or machine) shows up without a reload.
  const tick = useLiveEvents(
    [
      'model.updated',
      'version.created',
      'version.updated',
      'version.stage_changed',
      'alias.set',
      'alias.deleted',
    ],
    name,
  );
  const canEdit = useCanEdit()(name);
  const model = useApi<ModelDetail>(base, tick);
  const versions = useApi<{ versions: ModelVersion[] }>(`${base}/versions`, tick);
  const history = useApi<{ history: HistoryEntry[] }>(`${base}/history`, tick);
  const metrics = useRunMetrics(versions.data?.versions);
  const { reload: reloadModel } = model;
  const { reload: reloadVersions } = versions;
  const { reload: reloadHistory } = history;
  const refresh = useCallback(() => {
    reloadModel();
    reloadVersions();
    reloadHistory();
  }, [reloadModel, reloadVersions, reloadHistory]);

  const stages = model.data?.stages ?? ['none', 'staging', 'production', 'archived'];
  const versionList = versions.data?.versions ?? [];

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <a href={to.models()}>Models</a> <span aria-hidden="true">/</span> <span>{name}</span>
      </nav>
      <h1>{name}</h1>
      <Async state={model} what="the model">
        {(m) => (
          <>
            <EditableMeta
              path={base}
              what={`model ${name}`}
              description={m.description}
              tags={m.tags}
              canEdit={canEdit}
              onSaved={reloadModel}
            />
            <p className="muted small">
              {m.lastVersion} version{m.lastVersion === 1 ? '' : 's'} allocated; stages:{' '}
              {m.stages.join(' → ')}.
            </p>
          </>
        )}
      </Async>
      {model.data ? (
        <div className="grid">
          <section className="card span-2" aria-labelledby="versions-heading">
            <div className="page-head">
              <h2 id="versions-heading">Versions</h2>
              {versionList.filter((v) => v.runId).length >= 2 ? (
                <a href={to.compare(versionList.flatMap((v) => (v.runId ? [v.runId] : [])))}>
                  Compare the versions&apos; runs
                </a>
              ) : null}
            </div>
            <Async
              state={versions}
              what="the versions"
              isEmpty={(d) => d.versions.length === 0}
              empty={<p>This model has no versions yet.</p>}
            >
              {(d) => (
                <VersionsTable
                  name={name}
                  versions={d.versions}
                  stages={stages}
                  metrics={metrics}
                  onChanged={refresh}
                />
              )}
            </Async>
          </section>
          <section className="card" aria-labelledby="aliases-heading">
            <h2 id="aliases-heading">Aliases</h2>
            <AliasPanel name={name} aliases={model.data.aliases} versions={versionList} onChanged={refresh} />
          </section>
          <section className="card span-2" aria-labelledby="canary-heading">
            <h2 id="canary-heading">Deployment (canary)</h2>
            <CanaryPanel name={name} versions={versionList} stages={stages} onChanged={refresh} />
          </section>
          <section className="card span-2" aria-labelledby="history-heading">
            <h2 id="history-heading">History</h2>
            <Async
              state={history}
              what="the history"
              isEmpty={(d) => d.history.length === 0}
              empty={<p>No stage or alias moves yet.</p>}
            >
              {(d) => <HistoryTimeline entries={d.history} />}
            </Async>
          </section>
        </div>
      ) : null}
    </>
  );
}
