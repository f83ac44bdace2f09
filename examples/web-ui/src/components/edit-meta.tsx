import { useState } from 'react';
import { api, messageOf } from '../api.js';
import { useNotify } from './notices.js';

/**
 * A description and tags with an "Edit" form (for those who may edit): `PATCH path` with
 * `{ description, tags }` (a tag set to `null` is removed). Keys starting with `modelreg.` are the registry's and shown only.
 */
export function EditableMeta({
  path,
  what,
  description,
  tags,
  canEdit,
  onSaved,
}: {
  path: string;
  what: string;
  description: string;
  tags: Record<string, string>;
  canEdit: boolean;
  onSaved: () => void;
}) {
  const notify = useNotify();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(description);
  const [tagText, setTagText] = useState('');
  const [busy, setBusy] = useState(false);
  const userTags = Object.entries(tags).filter(([k]) => !k.startsWith('modelreg.'));

  const start = () => {
    setText(description);
    setTagText(userTags.map(([k, v]) => `${k}=${v}`).join('\n'));
    setEditing(true);
  };

  const save = async () => {
    const set: Record<string, string> = {};
    for (const line of tagText.split(/\n|,/)) {
      const t = line.trim();
      if (!t) continue;
      const eq = t.indexOf('=');
      set[(eq < 0 ? t : t.slice(0, eq)).trim()] = eq < 0 ? '' : t.slice(eq + 1).trim();
    }
    const changes: Record<string, string | null> = { ...set };
    for (const [k] of userTags) if (!Object.hasOwn(set, k)) changes[k] = null;
    setBusy(true);
    try {
      await api.patch(path, { description: text, tags: changes });
      notify.success(`Saved the description and tags of ${what}.`);
      setEditing(false);
      onSaved();
    } catch (e) {
      notify.error(`Saving ${what} failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
    }
  };

  if (editing)
    return (
      <form
        className="stack-form"
        aria-label={`Edit ${what}`}
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label className="field">
          Description
          <textarea rows={3} maxLength={5000} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <label className="field">
          Tags (one <code>key=value</code> a line)
          <textarea rows={3} value={tagText} onChange={(e) => setTagText(e.target.value)} />
        </label>
        <div className="button-row">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          <button type="button" onClick={() => setEditing(false)}>
            Cancel
          </button>
        </div>
      </form>
    );
  return (
    <div className="meta" data-testid="meta">
      <p className={description ? undefined : 'muted'}>{description || 'No description.'}</p>
      {userTags.length ? (
        <ul className="inline-list" aria-label="Tags">
          {userTags.map(([k, v]) => (
            <li key={k} className="chip">
              {k}
              {v ? `=${v}` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {canEdit ? (
        <button type="button" className="link-button" onClick={start}>
          Edit description and tags
        </button>
      ) : null}
    </div>
  );
}
