import type { Experiment } from '../api.js';
import { TableWrap } from '../components/bits.js';
import { Async } from '../components/states.js';
import { fmtTime } from '../format.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';

export function ExperimentsPage() {
  useTitle('Experiments');
  const experiments = useApi<{ experiments: Experiment[] }>('experiments');
  return (
    <>
      <h1>Experiments</h1>
      <Async
        state={experiments}
        what="the experiments"
        isEmpty={(d) => d.experiments.length === 0}
        empty={
          <p>
            No experiments yet. Every training (<code>POST /train</code>) and every run started from code (
            <code>registry.startRun</code>) belongs to one.
          </p>
        }
      >
        {(d) => (
          <TableWrap label="Experiments">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Experiment</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {d.experiments.map((e) => (
                  <tr key={e.id}>
                    <th scope="row">
                      <a href={to.runs(e.name)}>{e.name}</a>
                    </th>
                    <td>{fmtTime(e.createdAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        )}
      </Async>
    </>
  );
}
