import { useRef, useState } from 'react';
import type { DatasetVersion } from '../api.js';
import { api, messageOf, seg } from '../api.js';
import { StageBadge, TableWrap } from '../components/bits.js';
import { VersionLink } from '../lineage/lineage-links.js';
import { datasetOf, lineageQueries, useLineage } from '../lineage/lineage.js';
import { useNotify } from '../components/notices.js';
import { Async } from '../components/states.js';
import { fmtBytes, fmtDate, fmtNumber, fmtTime } from '../format.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';
import { useCanEdit } from '../components/who.js';

type Upload = DatasetVersion & { created: boolean };

/** Column, inferred type, nulls, distinct values and range or categories of one dataset version. */
export function SchemaTable({ dataset }: { dataset: DatasetVersion }) {
  return (
    <TableWrap label={`Schema of ${dataset.name} version ${dataset.version}`}>
      <table className="data-table" data-testid="schema">
        <caption>
          {dataset.name} v{dataset.version}: {dataset.rows} rows, {dataset.columns.length} columns
        </caption>
        <thead>
          <tr>
            <th scope="col">Column</th>
            <th scope="col">Type</th>
            <th scope="col">Nulls</th>
            <th scope="col">Distinct</th>
            <th scope="col">Range or categories</th>
          </tr>
        </thead>
        <tbody>
          {dataset.columns.map((c) => (
            <tr key={c.name}>
              <th scope="row">{c.name}</th>
              <td>
                <span className={`type type-${c.type}`}>{c.type}</span>
              </td>
              <td className="num">{c.nullCount}</td>
              <td className="num">{c.distinctCount}</td>
              <td className="wrap">
                {c.categories
                  ? c.categories.slice(0, 8).join(', ') + (c.categories.length > 8 ? ', …' : '')
                  : c.min !== undefined && c.max !== undefined
                    ? c.type === 'datetime'
                      ? `${fmtDate(c.min)} … ${fmtDate(c.max)}`
                      : `${fmtNumber(c.min)} … ${fmtNumber(c.max)}`
                    : '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableWrap>
  );
}

function UploadForm({ onUploaded }: { onUploaded: (d: Upload) => void }) {
  const notify = useNotify();
  const fileRef = useRef<HTMLInputElement>(null);
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);

  const upload = async () => {
    const file = fileRef.current?.files?.[0];
    if (!file) {
      notify.error('Choose a CSV file to upload.');
      return;
    }
    const form = new FormData();
    if (name.trim()) form.append('name', name.trim());
    form.append('file', file, file.name);
    setBusy(true);
    try {
      const d = await api.upload<Upload>('datasets', form);
      notify.success(
        d.created
          ? `Uploaded ${d.name} version ${d.version}.`
          : `${d.name} version ${d.version} already has these bytes.`,
      );
      onUploaded(d);
      setName('');
      if (fileRef.current) fileRef.current.value = '';
    } catch (e) {
      notify.error(`Upload failed: ${messageOf(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="stack-form"
      aria-label="Upload a CSV"
      onSubmit={(e) => {
        e.preventDefault();
        void upload();
      }}
    >
      <label className="field">
        CSV file
        <input ref={fileRef} type="file" name="file" accept=".csv,text/csv" required />
      </label>
      <label className="field">
        Name (optional: else from the file name)
        <input type="text" name="name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Uploading…' : 'Upload'}
      </button>
    </form>
  );
}

/** The runs trained on this dataset (any version) and the model versions and deployments they became. */
function DatasetUsage({ name }: { name: string }) {
  const { index, error } = useLineage();
  if (error && !index) return <p className="muted">Could not read the runs and models that use it.</p>;
  if (!index) return <p className="muted">Reading the runs and models that use it…</p>;
  const runs = lineageQueries.runsOfDataset(index, name);
  return (
    <section aria-labelledby="usage-heading" data-testid="dataset-usage">
      <h3 id="usage-heading">Used by</h3>
      {runs.length === 0 ? (
        <p className="muted">No run was trained on {name} yet.</p>
      ) : (
        <ul className="lineage-list">
          {runs.map((r) => {
            const d = datasetOf(r);
            const versions = lineageQueries.versionsOfRun(index, r.id);
            return (
              <li key={r.id}>
                {d?.version ? <span className="muted small">v{d.version} → </span> : null}
                run{' '}
                <a href={to.run(r.id)} data-lineage="run">
                  {r.name}
                </a>{' '}
                <span className="muted small">({r.experiment})</span>
                {versions.map((v) => {
                  const deployed = lineageQueries.deploymentsOf(index, v.name, v.version);
                  return (
                    <span key={`${v.name}/${v.version}`}>
                      {' → '}
                      <VersionLink version={v} /> <StageBadge stage={v.stage} />
                      {deployed.map(({ deployment, arms }) => (
                        <span key={deployment.model}>
                          {' → '}
                          <a href={to.model(deployment.model)} data-lineage="deployment">
                            canary {arms.join('+')}
                          </a>
                        </span>
                      ))}
                    </span>
                  );
                })}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

function DatasetDetail({ name }: { name: string }) {
  const detail = useApi<{ dataset: DatasetVersion; versions: DatasetVersion[] }>(`datasets/${seg(name)}`);
  const [picked, setPicked] = useState<number | null>(null);
  return (
    <section className="card span-2" aria-labelledby="dataset-heading">
      <h2 id="dataset-heading">{name}</h2>
      <Async state={detail} what={`dataset ${name}`}>
        {(d) => {
          const shown = d.versions.find((v) => v.version === picked) ?? d.dataset;
          return (
            <>
              <TableWrap label={`Versions of ${name}`}>
                <table className="data-table">
                  <thead>
                    <tr>
                      <th scope="col">Version</th>
                      <th scope="col">Rows</th>
                      <th scope="col">Size</th>
                      <th scope="col">File</th>
                      <th scope="col">Created</th>
                      <th scope="col">sha256</th>
                    </tr>
                  </thead>
                  <tbody>
                    {[...d.versions].reverse().map((v) => (
                      <tr key={v.version} className={v.version === shown.version ? 'selected' : undefined}>
                        <th scope="row">
                          <button
                            type="button"
                            className="link-button"
                            aria-pressed={v.version === shown.version}
                            onClick={() => setPicked(v.version)}
                          >
                            v{v.version}
                          </button>
                        </th>
                        <td className="num">{v.rows}</td>
                        <td className="num">{fmtBytes(v.size)}</td>
                        <td>{v.originalName}</td>
                        <td>{fmtTime(v.createdAt)}</td>
                        <td>
                          <code title={v.sha256}>{v.sha256.slice(0, 12)}…</code>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
              <SchemaTable dataset={shown} />
              <DatasetUsage name={name} />
            </>
          );
        }}
      </Async>
    </section>
  );
}

export function DatasetsPage({ name }: { name: string | undefined }) {
  useTitle(name ? `Dataset ${name}` : 'Datasets');
  const list = useApi<{ datasets: DatasetVersion[] }>('datasets');
  const [uploaded, setUploaded] = useState<Upload | null>(null);
  const canEdit = useCanEdit()();
  return (
    <>
      <h1>Datasets</h1>
      <div className="grid">
        <section className="card" aria-labelledby="upload-heading">
          <h2 id="upload-heading">Upload a CSV</h2>
          {canEdit ? (
            <UploadForm
              onUploaded={(d) => {
                setUploaded(d);
                list.reload();
              }}
            />
          ) : (
            <p className="muted">Your role does not allow uploads (it needs editor).</p>
          )}
          {uploaded ? (
            <div data-testid="upload-result" className="upload-result">
              <h3>
                {uploaded.created ? 'New version' : 'Unchanged'}:{' '}
                <a href={to.dataset(uploaded.name)}>{uploaded.name}</a> v{uploaded.version}
              </h3>
              <SchemaTable dataset={uploaded} />
            </div>
          ) : null}
        </section>
        <section className="card" aria-labelledby="list-heading">
          <h2 id="list-heading">Catalog</h2>
          <Async
            state={list}
            what="the datasets"
            isEmpty={(d) => d.datasets.length === 0}
            empty={<p>No datasets yet. Upload a CSV to start the catalog.</p>}
          >
            {(d) => (
              <TableWrap label="Datasets">
                <table className="data-table" data-testid="datasets-table">
                  <thead>
                    <tr>
                      <th scope="col">Dataset</th>
                      <th scope="col">Latest</th>
                      <th scope="col">Rows</th>
                      <th scope="col">Columns</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.datasets.map((ds) => (
                      <tr key={ds.name}>
                        <th scope="row">
                          <a href={to.dataset(ds.name)} aria-current={ds.name === name ? 'page' : undefined}>
                            {ds.name}
                          </a>
                        </th>
                        <td className="num">v{ds.version}</td>
                        <td className="num">{ds.rows}</td>
                        <td className="num">{ds.columns.length}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            )}
          </Async>
        </section>
        {name ? <DatasetDetail name={name} /> : null}
      </div>
    </>
  );
}
