import { useEffect, useState } from 'react';
import type { RunDetail } from '../api.js';
import { api, seg } from '../api.js';
import { ErrorState, Loading } from '../components/states.js';
import { useTitle } from '../hooks.js';
import { lineageQueries, useLineage } from '../lineage/lineage.js';
import { to } from '../router.js';
import { CompareRuns } from './runs/compare-runs.js';

/**
 * Two or more runs (from any experiment: the runs behind model versions too) side by side, from a
 * shareable link `#/compare?runs=<id>,<id>,…`.
 */
export function ComparePage({ ids }: { ids: string[] }) {
  useTitle('Compare');
  const [state, setState] = useState<{ runs?: RunDetail['run'][]; error?: unknown }>({});
  const { index } = useLineage();
  useEffect(() => {
    let live = true;
    Promise.all(ids.map((id) => api.get<RunDetail>(`runs/${seg(id)}`))).then(
      (details) => live && setState({ runs: details.map((d) => d.run) }),
      (error: unknown) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [ids]);

  const labels: Record<string, string> = {};
  if (index)
    for (const id of ids) {
      const versions = lineageQueries.versionsOfRun(index, id);
      if (versions.length) labels[id] = versions.map((v) => `${v.name} v${v.version}`).join(', ');
    }
  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <a href={to.experiments()}>Experiments</a> <span aria-hidden="true">/</span> <span>Compare</span>
      </nav>
      <h1>Compare {ids.length} runs</h1>
      {ids.length < 2 ? (
        <p>
          Pick two or more runs to compare: tick them on an experiment&apos;s page, or the versions on a
          model&apos;s page.
        </p>
      ) : state.error ? (
        <ErrorState error={state.error} what="the runs" />
      ) : state.runs ? (
        <CompareRuns
          runs={state.runs}
          metricKeys={[...new Set(state.runs.flatMap((r) => Object.keys(r.latestMetrics)))].sort()}
          labels={labels}
        />
      ) : (
        <Loading what="the runs" />
      )}
    </>
  );
}
