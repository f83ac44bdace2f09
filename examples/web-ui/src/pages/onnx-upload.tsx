import { useRef, useState } from 'react';
import type { ModelVersion } from '../api.js';
import { api, messageOf, seg } from '../api.js';
import { useNotify } from '../components/notices.js';
import { to } from '../router.js';

/** `POST /models/:name/versions/onnx` (multipart): a model trained elsewhere becomes a new version. */
export function OnnxUpload() {
  const notify = useNotify();
  const file = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [signature, setSignature] = useState('');
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [made, setMade] = useState<ModelVersion | null>(null);

  const upload = async () => {
    const f = file.current?.files?.[0];
    if (!f || !name.trim()) {
      notify.error('Choose an .onnx file and name the model.');
      return;
    }
    const form = new FormData();
    if (signature.trim()) form.append('signature', signature.trim());
    if (description.trim()) form.append('description', description.trim());
    form.append('file', f, f.name);
    setBusy(true);
    try {
      const answer = await api.upload<ModelVersion | { version: ModelVersion }>(
        `models/${seg(name.trim())}/versions/onnx`,
        form,
      );
      const v =
        'version' in answer && typeof answer.version === 'object' ? answer.version : (answer as ModelVersion);
      setMade(v);
      notify.success(`Uploaded ${v.name} version ${v.version}.`);
    } catch (e) {
      notify.error(`ONNX upload failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="stack-form"
      aria-label="Upload an ONNX model"
      onSubmit={(e) => {
        e.preventDefault();
        void upload();
      }}
    >
      <label className="field">
        ONNX file
        <input ref={file} type="file" accept=".onnx" required />
      </label>
      <label className="field">
        Model name
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <label className="field">
        Signature (JSON, optional: else read from the file)
        <input
          type="text"
          value={signature}
          placeholder='{ "inputs": [{ "name": "x1" }], "classes": ["a", "b"] }'
          onChange={(e) => setSignature(e.target.value)}
          spellCheck={false}
        />
      </label>
      <label className="field">
        Description (optional)
        <input type="text" value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Uploading…' : 'Upload model'}
      </button>
      {made ? (
        <p data-testid="onnx-result">
          New version:{' '}
          <a href={to.version(made.name, made.version)}>
            {made.name} v{made.version}
          </a>
        </p>
      ) : null}
    </form>
  );
}
