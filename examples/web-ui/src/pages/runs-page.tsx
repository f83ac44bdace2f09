import { useEffect, useMemo, useState } from 'react';
import type { Run } from '../api.js';
import { api, messageOf, seg } from '../api.js';
import { TableWrap } from '../components/bits.js';
import { useNotify } from '../components/notices.js';
import { Async } from '../components/states.js';
import { fmtNumber, fmtTime, own } from '../format.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';
import { CompareRuns } from './runs/compare-runs.js';

interface Page {
  runs: Run[];
  nextPageToken: string | null;
}

interface Sort {
  /** The API's `orderBy`: `metric:<key>`, `param:<key>`, `name` or `startTime`. */
  by: string;
  dir: 'asc' | 'desc';
}

const PAGE = 50;

/** A column header that sorts the table (on the server, through `searchRuns`) when pressed. */
function SortHeader({
  label,
  by,
  sort,
  onSort,
}: {
  label: string;
  by: string;
  sort: Sort;
  onSort: (s: Sort) => void;
}) {
  const active = sort.by === by;
  const next: Sort = { by, dir: active && sort.dir === 'desc' ? 'asc' : 'desc' };
  return (
    <th scope="col" aria-sort={active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" className="sort-button" onClick={() => onSort(next)}>
        {label}
        <span aria-hidden="true" className="sort-mark">
          {active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕'}
        </span>
      </button>
    </th>
  );
}

export function RunsPage({ experiment }: { experiment: string }) {
  useTitle(`Runs of ${experiment}`);
  const notify = useNotify();
  const [sort, setSort] = useState<Sort>({ by: 'startTime', dir: 'desc' });
  const [more, setMore] = useState<Page>({ runs: [], nextPageToken: null });
  const [selected, setSelected] = useState<string[]>([]);
  const [comparing, setComparing] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const query = `orderBy=${encodeURIComponent(sort.by)}&direction=${sort.dir}&limit=${PAGE}`;
  const first = useApi<Page>(`experiments/${seg(experiment)}/runs?${query}`);

  useEffect(() => setMore({ runs: [], nextPageToken: null }), [query]);

  const runs = useMemo(() => [...(first.data?.runs ?? []), ...more.runs], [first.data, more.runs]);
  const token = more.runs.length ? more.nextPageToken : (first.data?.nextPageToken ?? null);
  const paramKeys = useMemo(() => [...new Set(runs.flatMap((r) => Object.keys(r.params)))].sort(), [runs]);
  const metricKeys = useMemo(
    () => [...new Set(runs.flatMap((r) => Object.keys(r.latestMetrics)))].sort(),
    [runs],
  );
  const chosen = runs.filter((r) => selected.includes(r.id));

  const loadMore = async () => {
    if (!token) return;
    setLoadingMore(true);
    try {
      const page = await api.get<Page>(
        `experiments/${seg(experiment)}/runs?${query}&pageToken=${encodeURIComponent(token)}`,
      );
      setMore((m) => ({ runs: [...m.runs, ...page.runs], nextPageToken: page.nextPageToken }));
    } catch (e) {
      notify.error(`Loading more runs failed: ${messageOf(e)}`);
    } finally {
      setLoadingMore(false);
    }
  };

  const toggle = (id: string) =>
    setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : [...s, id]));

  return (
    <>
      <nav aria-label="Breadcrumb" className="breadcrumbs">
        <a href={to.experiments()}>Experiments</a> <span aria-hidden="true">/</span> <span>{experiment}</span>
      </nav>
      <div className="page-head">
        <h1>Runs of {experiment}</h1>
        <button
          type="button"
          className="primary"
          disabled={chosen.length < 2}
          onClick={() => setComparing(true)}
          aria-describedby="compare-hint"
        >
          Compare selected ({chosen.length})
        </button>
      </div>
      <p id="compare-hint" className="muted small">
        Select two or more runs to compare their params and metrics side by side. Press a column header to
        sort.
      </p>
      {comparing && chosen.length >= 2 ? (
        <CompareRuns runs={chosen} metricKeys={metricKeys} onClose={() => setComparing(false)} />
      ) : null}
      <Async
        state={first}
        what="the runs"
        isEmpty={(d) => d.runs.length === 0}
        empty={<p>No runs in this experiment{sort.by.startsWith('metric:') ? ' with that metric' : ''}.</p>}
      >
        {() => (
          <>
            <TableWrap label={`Runs of ${experiment}`}>
              <table className="data-table" data-testid="runs-table">
                <thead>
                  <tr>
                    <th scope="col">
                      <span className="visually-hidden">Select</span>
                    </th>
                    <SortHeader label="Run" by="name" sort={sort} onSort={setSort} />
                    <th scope="col">Status</th>
                    <SortHeader label="Started" by="startTime" sort={sort} onSort={setSort} />
                    {paramKeys.map((k) => (
                      <SortHeader key={`p-${k}`} label={k} by={`param:${k}`} sort={sort} onSort={setSort} />
                    ))}
                    {metricKeys.map((k) => (
                      <SortHeader key={`m-${k}`} label={k} by={`metric:${k}`} sort={sort} onSort={setSort} />
                    ))}
                  </tr>
                  <tr className="group-row">
                    <td colSpan={4} />
                    {paramKeys.length ? <td colSpan={paramKeys.length}>params</td> : null}
                    {metricKeys.length ? <td colSpan={metricKeys.length}>metrics</td> : null}
                  </tr>
                </thead>
                <tbody>
                  {runs.map((r) => (
                    <tr key={r.id} className={selected.includes(r.id) ? 'selected' : undefined}>
                      <td>
                        <input
                          type="checkbox"
                          id={`select-${r.id}`}
                          checked={selected.includes(r.id)}
                          onChange={() => toggle(r.id)}
                        />
                        <label className="visually-hidden" htmlFor={`select-${r.id}`}>
                          Select run {r.name}
                        </label>
                      </td>
                      <th scope="row">
                        <a href={to.run(r.id)}>{r.name}</a>
                      </th>
                      <td>{r.status}</td>
                      <td>{fmtTime(r.startTime)}</td>
                      {paramKeys.map((k) => (
                        <td key={`p-${k}`}>{own(r.params, k) ?? '—'}</td>
                      ))}
                      {metricKeys.map((k) => (
                        <td key={`m-${k}`} className="num">
                          {fmtNumber(own(r.latestMetrics, k))}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
            {token ? (
              <button type="button" onClick={() => void loadMore()} disabled={loadingMore}>
                {loadingMore ? 'Loading…' : 'Load more runs'}
              </button>
            ) : null}
          </>
        )}
      </Async>
    </>
  );
}
