import { useCallback, useEffect, useRef, useState } from 'react';
import type { CanaryArm, CanaryState, ModelVersion } from '../../api.js';
import { ApiError, api, messageOf, seg } from '../../api.js';
import { TableWrap } from '../../components/bits.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { useNotify } from '../../components/notices.js';
import { ErrorState, Loading } from '../../components/states.js';
import { fmtNumber } from '../../format.js';
import { useInterval } from '../../hooks.js';
import { CanaryForm } from './canary-form.js';
import { useCanEdit } from '../../components/who.js';
import { to } from '../../router.js';

type Action = 'promote' | 'rollback' | 'end';

const POLL_MS = 2000;

/** `v2 (production)`: the version an arm serves, and the ref it follows when that is not a number. */
const armText = (arm: CanaryArm): string => {
  const v = arm.version === null ? 'not loaded yet' : `v${arm.version}`;
  return typeof arm.ref === 'number' || /^\d+$/.test(String(arm.ref)) ? v : `${v} (${String(arm.ref)})`;
};

/** "current: v2 (production), 75 %; next: v3, 25 %" */
export const describeCanaryPlainly = (c: CanaryState, nextShare: number): string =>
  `current: ${armText(c.current)}, ${Math.round((1 - nextShare) * 100)} %; next: ${armText(c.next)}, ${Math.round(nextShare * 100)} %`;

function ArmRow({ name, arm, label, share }: { name: string; arm: CanaryArm; label: string; share: number }) {
  return (
    <tr>
      <th scope="row">{label}</th>
      <td data-label="Serves">
        {arm.version === null ? armText(arm) : <a href={to.version(name, arm.version)}>{armText(arm)}</a>}
      </td>
      <td data-label="Share" className="num">
        {Math.round(share * 100)} %
      </td>
      <td data-label="Rows" className="num">
        {arm.rows}
      </td>
      <td data-label="Requests" className="num">
        {arm.requests}
      </td>
      <td data-label="Errors" className="num">
        {arm.errors}
      </td>
      <td data-label="p50 ms" className="num">
        {arm.latencyMs ? fmtNumber(arm.latencyMs.p50) : '—'}
      </td>
      <td data-label="p95 ms" className="num">
        {arm.latencyMs ? fmtNumber(arm.latencyMs.p95) : '—'}
      </td>
      <td data-label="p99 ms" className="num">
        {arm.latencyMs ? fmtNumber(arm.latencyMs.p99) : '—'}
      </td>
    </tr>
  );
}

/**
 * The model's canary: start one, move its weight with a slider (saved as you let go), watch rows,
 * errors and latency of each arm (refreshed every 2 s), promote next or roll back.
 */
export function CanaryPanel({
  name,
  versions,
  stages,
  onChanged,
}: {
  name: string;
  versions: ModelVersion[];
  stages: string[];
  onChanged: () => void;
}) {
  const canEdit = useCanEdit()(name);
  const notify = useNotify();
  const path = `models/${seg(name)}/canary`;
  const [canary, setCanary] = useState<CanaryState | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<unknown>(undefined);
  const [draft, setDraft] = useState<number | null>(null);
  const [pending, setPending] = useState<Action | null>(null);
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const saveTimer = useRef<number | undefined>(undefined);

  const load = useCallback(async () => {
    try {
      setCanary(await api.get<CanaryState>(path));
      setLoadError(undefined);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && e.code === 'NOT_FOUND') {
        setCanary(null);
        setLoadError(undefined);
      } else setLoadError(e);
    }
  }, [path]);

  useEffect(() => {
    void load();
    return () => window.clearTimeout(saveTimer.current);
  }, [load]);
  useInterval(() => void load(), POLL_MS);

  const saveWeight = (percent: number) => {
    setDraft(percent);
    window.clearTimeout(saveTimer.current);
    saveTimer.current = window.setTimeout(async () => {
      try {
        setCanary(await api.patch<CanaryState>(path, { weight: percent / 100 }));
        notify.success(`Canary weight set to ${percent} %.`);
      } catch (e) {
        notify.error(`Changing the canary weight failed: ${messageOf(e)}`);
      } finally {
        setDraft(null);
      }
    }, 300);
  };

  const act = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      if (pending === 'promote') {
        const res = await api.post<{ promoted: { from: number; to: number } }>(`${path}/promote`, {
          ...(comment.trim() ? { comment: comment.trim() } : {}),
        });
        notify.success(`Promoted version ${res.promoted.to} (was ${res.promoted.from}); the canary ended.`);
        setCanary(null);
        onChanged();
      } else if (pending === 'rollback') {
        setCanary(await api.post<CanaryState>(`${path}/rollback`));
        notify.success('Rolled back: every row goes to current.');
      } else {
        await api.delete(path);
        setCanary(null);
        notify.success('Canary ended.');
      }
    } catch (e) {
      notify.error(`Canary ${pending} failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
      setPending(null);
    }
  };

  if (canary === undefined) {
    return loadError ? (
      <ErrorState error={loadError} retry={() => void load()} what="the canary" />
    ) : (
      <Loading what="the canary" />
    );
  }
  if (canary === null) {
    if (!canEdit) return <p className="muted">No canary. Your role or grants do not allow starting one.</p>;
    return <CanaryForm name={name} versions={versions} stages={stages} onStarted={setCanary} />;
  }

  const percent = draft ?? Math.round(canary.weight * 100);
  const titles: Record<Action, string> = {
    promote: `Promote ${String(canary.next.ref)} (v${canary.next.version ?? '?'}) in place of ${String(canary.current.ref)}?`,
    rollback: 'Roll back the canary?',
    end: 'End the canary?',
  };
  return (
    <div data-testid="canary-panel">
      {loadError ? <ErrorState error={loadError} retry={() => void load()} what="the canary" /> : null}
      <p className="plain" data-testid="canary-plain">
        <strong>{describeCanaryPlainly(canary, percent / 100)}</strong>
      </p>
      <p className="muted small">
        Active since {new Date(canary.createdAt).toLocaleTimeString()}
        {canary.updatedBy ? `, last changed by ${canary.updatedBy}` : ''}
        {canary.stickyKey ? `, sticky on “${canary.stickyKey}”` : ''}
        {canary.shadow ? ', shadow mode' : ''}. Counters refresh every 2 s.
      </p>
      <div className="field">
        <label htmlFor="canary-weight">Share of rows for next: </label>
        <output htmlFor="canary-weight" data-testid="canary-weight-value">
          {percent} %
        </output>
        <input
          id="canary-weight"
          type="range"
          min={0}
          max={100}
          step={1}
          value={percent}
          aria-valuetext={`${percent} percent`}
          onChange={(e) => saveWeight(Number(e.target.value))}
        />
      </div>
      <TableWrap label="Canary arms">
        <table className="data-table cards">
          <thead>
            <tr>
              <th scope="col">Arm</th>
              <th scope="col">Serves</th>
              <th scope="col" className="num">
                Share
              </th>
              <th scope="col" className="num">
                Rows
              </th>
              <th scope="col" className="num">
                Requests
              </th>
              <th scope="col" className="num">
                Errors
              </th>
              <th scope="col" className="num">
                p50 ms
              </th>
              <th scope="col" className="num">
                p95 ms
              </th>
              <th scope="col" className="num">
                p99 ms
              </th>
            </tr>
          </thead>
          <tbody>
            <ArmRow name={name} arm={canary.current} label="current" share={1 - percent / 100} />
            <ArmRow name={name} arm={canary.next} label="next" share={percent / 100} />
          </tbody>
        </table>
      </TableWrap>
      {canEdit ? (
        <div className="button-row">
          <button type="button" className="primary" onClick={() => (setComment(''), setPending('promote'))}>
            Promote next…
          </button>
          <button type="button" onClick={() => setPending('rollback')}>
            Roll back…
          </button>
          <button type="button" className="danger" onClick={() => setPending('end')}>
            End canary…
          </button>
        </div>
      ) : null}
      <ConfirmDialog
        open={pending !== null}
        title={pending ? titles[pending] : 'Canary'}
        confirmLabel={pending === 'promote' ? 'Promote' : pending === 'rollback' ? 'Roll back' : 'End canary'}
        danger={pending === 'end'}
        busy={busy}
        onConfirm={() => void act()}
        onCancel={() => setPending(null)}
      >
        {pending === 'promote' ? (
          <>
            <p>
              {String(canary.current.ref)} moves to version {canary.next.version ?? '?'} (recorded in the
              history) and the canary ends.
            </p>
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
        ) : pending === 'rollback' ? (
          <p>The weight goes to 0: every row is served by current. The canary stays until you end it.</p>
        ) : (
          <p>Predictions go back to the default version; the counters are dropped.</p>
        )}
      </ConfirmDialog>
    </div>
  );
}
