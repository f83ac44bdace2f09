import { useId, useState } from 'react';
import type { ModelSummary } from '../api.js';
import { LIVE_TYPES, useLiveEvents } from '../live.js';
import { AliasChip, StageBadge, TableWrap } from '../components/bits.js';
import { Async } from '../components/states.js';
import { describeMove, fmtAgo, fmtTime } from '../format.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';

type SortKey = 'name' | 'changed' | 'versions';

const lastTime = (m: ModelSummary): number => m.summary?.lastChange?.time ?? m.updatedAt;

/** Models matching the search text (name, description), a stage that has versions, and a tag (`k` or `k=v`). */
export function filterModels(
  models: ModelSummary[],
  f: { text: string; stage: string; tag: string; sort: SortKey },
): ModelSummary[] {
  const text = f.text.trim().toLowerCase();
  const [tagKey = '', tagValue] = f.tag.trim().split('=', 2);
  const out = models.filter(
    (m) =>
      (!text || m.name.toLowerCase().includes(text) || m.description.toLowerCase().includes(text)) &&
      (!f.stage || (m.summary?.stages[f.stage] ?? 0) > 0) &&
      (!tagKey ||
        (Object.hasOwn(m.tags, tagKey) && (tagValue === undefined || m.tags[tagKey] === tagValue.trim()))),
  );
  const by: Record<SortKey, (a: ModelSummary, b: ModelSummary) => number> = {
    name: (a, b) => a.name.localeCompare(b.name),
    changed: (a, b) => lastTime(b) - lastTime(a),
    versions: (a, b) => (b.summary?.latestVersion ?? 0) - (a.summary?.latestVersion ?? 0),
  };
  return out.sort(by[f.sort]);
}

export function ModelsPage() {
  useTitle('Models');
  const tick = useLiveEvents(LIVE_TYPES);
  const models = useApi<{ models: ModelSummary[] }>('models?summary=true&limit=1000', tick);
  const [text, setText] = useState('');
  const [stage, setStage] = useState('');
  const [tag, setTag] = useState('');
  const [sort, setSort] = useState<SortKey>('name');
  const id = useId();
  const stages = [
    ...new Set((models.data?.models ?? []).flatMap((m) => Object.keys(m.summary?.stages ?? {}))),
  ];
  return (
    <>
      <div className="page-head">
        <h1>Models</h1>
        <button type="button" onClick={models.reload} disabled={models.loading}>
          Refresh
        </button>
      </div>
      <form className="filters" aria-label="Filter models" onSubmit={(e) => e.preventDefault()}>
        <label className="field">
          Search
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="name or description"
          />
        </label>
        <div className="field">
          <label htmlFor={`${id}-stage`}>Stage</label>
          <select id={`${id}-stage`} value={stage} onChange={(e) => setStage(e.target.value)}>
            <option value="">any</option>
            {stages.map((s) => (
              <option key={s} value={s}>
                has {s}
              </option>
            ))}
          </select>
        </div>
        <label className="field">
          Tag
          <input
            type="text"
            value={tag}
            onChange={(e) => setTag(e.target.value)}
            placeholder="key or key=value"
          />
        </label>
        <div className="field">
          <label htmlFor={`${id}-sort`}>Sort by</label>
          <select id={`${id}-sort`} value={sort} onChange={(e) => setSort(e.target.value as SortKey)}>
            <option value="name">name</option>
            <option value="changed">last change</option>
            <option value="versions">most versions</option>
          </select>
        </div>
      </form>
      <Async
        state={models}
        what="the models"
        isEmpty={(d) => d.models.length === 0}
        empty={
          <p>
            No registered models yet. Train one with <code>POST /train</code> (with <code>register</code>) or
            register a run&apos;s model from code; it will show up here.
          </p>
        }
      >
        {(d) => (
          <TableWrap label="Registered models">
            <table className="data-table cards" data-testid="models-table">
              <thead>
                <tr>
                  <th scope="col">Model</th>
                  <th scope="col">Latest version</th>
                  <th scope="col">Versions per stage</th>
                  <th scope="col">Aliases</th>
                  <th scope="col">Last change</th>
                </tr>
              </thead>
              <tbody>
                {filterModels(d.models, { text, stage, tag, sort }).map((m) => {
                  const last = m.summary?.lastChange ?? null;
                  const stages = Object.entries(m.summary?.stages ?? {});
                  return (
                    <tr key={m.name}>
                      <th scope="row">
                        <a href={to.model(m.name)}>{m.name}</a>
                        {m.description ? <div className="muted small">{m.description}</div> : null}
                      </th>
                      <td data-label="Latest version">
                        {m.summary?.latestVersion ? (
                          <a href={to.version(m.name, m.summary.latestVersion)}>v{m.summary.latestVersion}</a>
                        ) : (
                          '—'
                        )}
                      </td>
                      <td data-label="Versions per stage">
                        {stages.length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          <ul className="inline-list">
                            {stages.map(([stage, n]) => (
                              <li key={stage}>
                                <StageBadge stage={stage} /> {n}
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                      <td data-label="Aliases">
                        {Object.keys(m.aliases).length === 0 ? (
                          <span className="muted">none</span>
                        ) : (
                          <ul className="inline-list">
                            {Object.entries(m.aliases).map(([alias, v]) => (
                              <li key={alias}>
                                <AliasChip alias={alias}> → v{v}</AliasChip>
                              </li>
                            ))}
                          </ul>
                        )}
                      </td>
                      <td data-label="Last change">
                        {last ? (
                          <>
                            <time dateTime={new Date(last.time).toISOString()} title={fmtTime(last.time)}>
                              {fmtAgo(last.time)}
                            </time>
                            <div className="muted small">{describeMove(last)}</div>
                          </>
                        ) : (
                          <time dateTime={new Date(m.updatedAt).toISOString()} title={fmtTime(m.updatedAt)}>
                            {fmtAgo(m.updatedAt)}
                          </time>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Async>
    </>
  );
}
