import type { ModelSummary } from '../api.js';
import { AliasChip, StageBadge, TableWrap } from '../components/bits.js';
import { Async } from '../components/states.js';
import { describeMove, fmtAgo, fmtTime } from '../format.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';

export function ModelsPage() {
  useTitle('Models');
  const models = useApi<{ models: ModelSummary[] }>('models?summary=true&limit=1000');
  return (
    <>
      <div className="page-head">
        <h1>Models</h1>
        <button type="button" onClick={models.reload} disabled={models.loading}>
          Refresh
        </button>
      </div>
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
            <table className="data-table" data-testid="models-table">
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
                {d.models.map((m) => {
                  const last = m.summary?.lastChange ?? null;
                  const stages = Object.entries(m.summary?.stages ?? {});
                  return (
                    <tr key={m.name}>
                      <th scope="row">
                        <a href={to.model(m.name)}>{m.name}</a>
                        {m.description ? <div className="muted small">{m.description}</div> : null}
                      </th>
                      <td>{m.summary?.latestVersion ?? '—'}</td>
                      <td>
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
                      <td>
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
                      <td>
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
