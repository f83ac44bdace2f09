import { useId, useState } from 'react';
import type { CanaryState, ModelVersion } from '../../api.js';
import { api, messageOf, seg } from '../../api.js';
import { useNotify } from '../../components/notices.js';

/** `"3"` -> 3; stages, `@alias` and `latest` stay strings, as the API takes them. */
const sideOf = (v: string): number | string => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim());

/** Starts a canary: current (a stage, `@alias`, `latest` or a version), next, and the share for next. */
export function CanaryForm({
  name,
  versions,
  stages,
  onStarted,
}: {
  name: string;
  versions: ModelVersion[];
  stages: string[];
  onStarted: (canary: CanaryState) => void;
}) {
  const notify = useNotify();
  const listId = useId();
  const newest = versions.at(-1)?.version;
  const [current, setCurrent] = useState(stages.includes('production') ? 'production' : (stages[0] ?? ''));
  const [next, setNext] = useState(newest !== undefined ? String(newest) : '');
  const [percent, setPercent] = useState('10');
  const [stickyKey, setStickyKey] = useState('');
  const [busy, setBusy] = useState(false);

  const start = async () => {
    setBusy(true);
    try {
      const created = await api.post<CanaryState>(`models/${seg(name)}/canary`, {
        current: sideOf(current),
        next: sideOf(next),
        weight: Number(percent) / 100,
        ...(stickyKey.trim() ? { stickyKey: stickyKey.trim() } : {}),
      });
      notify.success(`Canary started: ${percent} % of rows go to ${next}.`);
      onStarted(created);
    } catch (e) {
      notify.error(`Starting the canary failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="stack-form"
      aria-label="Start a canary"
      onSubmit={(e) => {
        e.preventDefault();
        void start();
      }}
    >
      <p className="muted">
        No canary. Start one to send a share of the predictions without a version to another version.
      </p>
      <datalist id={listId}>
        {stages.map((s) => (
          <option key={s} value={s} />
        ))}
        <option value="latest" />
        {versions.map((v) => (
          <option key={v.version} value={String(v.version)} />
        ))}
      </datalist>
      <label className="field">
        Current (stage, @alias, latest or version)
        <input list={listId} required value={current} onChange={(e) => setCurrent(e.target.value)} />
      </label>
      <label className="field">
        Next
        <input list={listId} required value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <label className="field">
        Share for next (%)
        <input
          type="number"
          min={0}
          max={100}
          step={1}
          required
          value={percent}
          onChange={(e) => setPercent(e.target.value)}
        />
      </label>
      <label className="field">
        Sticky key (optional: a field of the rows)
        <input type="text" value={stickyKey} onChange={(e) => setStickyKey(e.target.value)} />
      </label>
      <button type="submit" disabled={busy}>
        {busy ? 'Starting…' : 'Start canary'}
      </button>
    </form>
  );
}
