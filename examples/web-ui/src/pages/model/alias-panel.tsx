import { useState } from 'react';
import type { ModelVersion } from '../../api.js';
import { api, messageOf, seg } from '../../api.js';
import { AliasChip } from '../../components/bits.js';
import { ConfirmDialog } from '../../components/confirm-dialog.js';
import { useNotify } from '../../components/notices.js';
import { useCanEdit } from '../../components/who.js';

type Pending =
  | { kind: 'set'; alias: string; version: number; current: number | null }
  | { kind: 'delete'; alias: string; current: number };

/**
 * The model's aliases: remove one, or point one at a version. Both confirm first and are
 * compare-and-set against what the page shows, so a move made meanwhile elsewhere is a conflict.
 */
export function AliasPanel({
  name,
  aliases,
  versions,
  onChanged,
}: {
  name: string;
  aliases: Record<string, number>;
  versions: ModelVersion[];
  onChanged: () => void;
}) {
  const canEdit = useCanEdit()(name);
  const notify = useNotify();
  const [alias, setAlias] = useState('');
  const [version, setVersion] = useState('');
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const newest = versions.at(-1)?.version;
  const chosen = version || (newest !== undefined ? String(newest) : '');

  const run = async () => {
    if (!pending) return;
    setBusy(true);
    const path = `models/${seg(name)}/aliases/${seg(pending.alias)}`;
    try {
      if (pending.kind === 'set') {
        await api.put(path, { version: pending.version, ifVersion: pending.current });
        notify.success(`@${pending.alias} now points at version ${pending.version}.`);
        setAlias('');
      } else {
        await api.delete(`${path}?ifVersion=${pending.current}`);
        notify.success(`@${pending.alias} removed.`);
      }
      onChanged();
    } catch (e) {
      notify.error(
        `${pending.kind === 'set' ? 'Setting' : 'Removing'} alias "${pending.alias}" failed: ${messageOf(e)}`,
      );
    } finally {
      setBusy(false);
      setPending(null);
    }
  };

  const entries = Object.entries(aliases).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      {entries.length === 0 ? (
        <p className="muted">No aliases.</p>
      ) : (
        <ul className="alias-list">
          {entries.map(([a, v]) => (
            <li key={a}>
              <AliasChip alias={a}> → version {v}</AliasChip>
              {canEdit ? (
                <button
                  type="button"
                  className="small-button"
                  aria-label={`Remove alias ${a}`}
                  onClick={() => setPending({ kind: 'delete', alias: a, current: v })}
                >
                  Remove…
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      )}
      {canEdit ? (
        <form
          className="stack-form"
          aria-label="Set an alias"
          onSubmit={(e) => {
            e.preventDefault();
            const trimmed = alias.trim();
            if (!trimmed || !chosen) return;
            setPending({
              kind: 'set',
              alias: trimmed,
              version: Number(chosen),
              current: aliases[trimmed] ?? null,
            });
          }}
        >
          <label className="field">
            Alias
            <input
              type="text"
              name="alias"
              required
              value={alias}
              placeholder="champion"
              autoComplete="off"
              onChange={(e) => setAlias(e.target.value)}
            />
          </label>
          <label className="field">
            Version
            <select name="version" value={chosen} onChange={(e) => setVersion(e.target.value)}>
              {[...versions].reverse().map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version} ({v.stage})
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={versions.length === 0}>
            Set alias…
          </button>
        </form>
      ) : null}
      <ConfirmDialog
        open={pending !== null}
        title={
          pending?.kind === 'delete'
            ? `Remove alias @${pending.alias}?`
            : pending
              ? `Point @${pending.alias} at version ${pending.version}?`
              : 'Alias'
        }
        confirmLabel={pending?.kind === 'delete' ? 'Remove' : 'Set alias'}
        danger={pending?.kind === 'delete'}
        busy={busy}
        onConfirm={() => void run()}
        onCancel={() => setPending(null)}
      >
        {pending?.kind === 'set' ? (
          <p>
            {pending.current === null
              ? `@${pending.alias} is not set yet.`
              : `@${pending.alias} points at version ${pending.current} now.`}{' '}
            Anything that serves{' '}
            <code>
              models:/{name}@{pending.alias}
            </code>{' '}
            switches to version {pending.version}.
          </p>
        ) : pending ? (
          <p>
            @{pending.alias} points at version {pending.current}. Anything that serves{' '}
            <code>
              models:/{name}@{pending.alias}
            </code>{' '}
            stops resolving.
          </p>
        ) : null}
      </ConfirmDialog>
    </>
  );
}
