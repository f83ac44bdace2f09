import { useState } from 'react';
import type { ModelVersion } from '../../api.js';
import { api, messageOf, seg } from '../../api.js';
import { AliasChip, StageBadge, TableWrap } from '../../components/bits.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { useNotify } from '../../components/notices.js';
import { fmtNumber, fmtTime } from '../../format.js';
import { to } from '../../router.js';
import { useCanEdit } from '../../components/who.js';

interface PendingMove {
  version: number;
  from: string;
  to: string;
}

/** The stage a version would usually go to next: the one after its own (the first after the last). */
const nextStage = (stages: string[], current: string): string => {
  const i = stages.indexOf(current);
  return stages[(i + 1) % stages.length] ?? current;
};

/** Versions, newest first, with their stage, aliases, run metrics, and a confirmed stage move. */
export function VersionsTable({
  name,
  versions,
  stages,
  metrics,
  onChanged,
}: {
  name: string;
  versions: ModelVersion[];
  stages: string[];
  metrics: Record<string, Record<string, number>>;
  onChanged: () => void;
}) {
  const notify = useNotify();
  const canEdit = useCanEdit()(name);
  const [choice, setChoice] = useState<Record<number, string>>({});
  const [pending, setPending] = useState<PendingMove | null>(null);
  const [archive, setArchive] = useState(true);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);

  const ask = (v: ModelVersion) => {
    const target = choice[v.version] ?? nextStage(stages, v.stage);
    setArchive(target !== stages[0] && target !== stages.at(-1));
    setComment('');
    setPending({ version: v.version, from: v.stage, to: target });
  };

  const move = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      await api.post(`models/${seg(name)}/versions/${pending.version}/stage`, {
        stage: pending.to,
        archiveExisting: archive,
        ...(comment.trim() ? { comment: comment.trim() } : {}),
      });
      notify.success(`Version ${pending.version} moved to ${pending.to}.`);
      onChanged();
    } catch (e) {
      notify.error(`Moving version ${pending.version} to ${pending.to} failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
      setPending(null);
    }
  };

  const newestFirst = [...versions].reverse();
  return (
    <>
      <TableWrap label={`Versions of ${name}`}>
        <table className="data-table cards" data-testid="versions-table">
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Stage</th>
              <th scope="col">Aliases</th>
              <th scope="col">Metrics</th>
              <th scope="col">Run</th>
              <th scope="col">Created</th>
              <th scope="col">Move to stage</th>
            </tr>
          </thead>
          <tbody>
            {newestFirst.map((v) => {
              const m = v.runId ? metrics[v.runId] : undefined;
              const selectId = `stage-${v.version}`;
              return (
                <tr key={v.version} data-version={v.version}>
                  <th scope="row">
                    <a href={to.version(name, v.version)}>v{v.version}</a>
                  </th>
                  <td data-label="Stage">
                    <StageBadge stage={v.stage} />
                  </td>
                  <td data-label="Aliases">
                    {v.aliases.length ? v.aliases.map((a) => <AliasChip key={a} alias={a} />) : '—'}
                  </td>
                  <td data-label="Metrics">
                    {m && Object.keys(m).length ? (
                      <dl className="metric-list">
                        {Object.entries(m)
                          .sort(([a], [b]) => a.localeCompare(b))
                          .slice(0, 4)
                          .map(([k, val]) => (
                            <div key={k}>
                              <dt>{k}</dt>
                              <dd>{fmtNumber(val)}</dd>
                            </div>
                          ))}
                      </dl>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-label="Run">
                    {v.runId ? (
                      <a href={to.run(v.runId)} title={v.runId}>
                        {v.runId.slice(0, 8)}
                      </a>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td data-label="Created">{fmtTime(v.createdAt)}</td>
                  <td data-label="Move to stage">
                    {canEdit ? (
                      <div className="inline-form">
                        <label className="visually-hidden" htmlFor={selectId}>
                          Stage for version {v.version}
                        </label>
                        <select
                          id={selectId}
                          value={choice[v.version] ?? nextStage(stages, v.stage)}
                          onChange={(e) => setChoice((c) => ({ ...c, [v.version]: e.target.value }))}
                        >
                          {stages.map((s) => (
                            <option key={s} value={s} disabled={s === v.stage}>
                              {s}
                            </option>
                          ))}
                        </select>
                        <button type="button" onClick={() => ask(v)} aria-label={`Move version ${v.version}`}>
                          Move…
                        </button>
                      </div>
                    ) : (
                      <span className="muted" title="Your role or grants do not allow moving this model">
                        —
                      </span>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </TableWrap>
      <ConfirmDialog
        open={pending !== null}
        title={pending ? `Move version ${pending.version} to ${pending.to}?` : 'Move version'}
        confirmLabel="Move"
        busy={busy}
        onConfirm={() => void move()}
        onCancel={() => setPending(null)}
      >
        {pending ? (
          <>
            <p>
              Version {pending.version} of <strong>{name}</strong> goes from{' '}
              <StageBadge stage={pending.from} /> to <StageBadge stage={pending.to} />. The move is recorded
              in the history.
            </p>
            <label className="check">
              <input type="checkbox" checked={archive} onChange={(e) => setArchive(e.target.checked)} />
              Archive the versions now in {pending.to}
            </label>
            <label className="field">
              Comment (optional)
              <input
                type="text"
                value={comment}
                maxLength={5000}
                onChange={(e) => setComment(e.target.value)}
              />
            </label>
          </>
        ) : null}
      </ConfirmDialog>
    </>
  );
}
