import { useEffect, useId, useRef, useState } from 'react';
import type { DatasetVersion, Job } from '../api.js';
import { api, messageOf, seg } from '../api.js';
import { useNotify } from '../components/notices.js';
import { Async } from '../components/states.js';
import { useCanEdit } from '../components/who.js';
import { useApi, useTitle } from '../hooks.js';
import { to } from '../router.js';
import { OnnxUpload } from './onnx-upload.js';

const MODEL_TYPES = ['random-forest', 'decision-tree', 'gradient-boosting', 'linear'];

/**
 * Follows a job over `GET /jobs/:id/events` until it ends (SSE; reads the job once more when the
 * stream ends or fails). Also returns the phases seen, in order.
 */
function useJob(initial: Job | null): { job: Job | null; phases: string[] } {
  const [job, setJob] = useState<Job | null>(initial);
  const [phases, setPhases] = useState<string[]>([]);
  const id = initial?.id;
  const phase = job ? `${job.state}:${job.progress.phase}` : '';
  useEffect(() => {
    if (phase) setPhases((p) => (p.at(-1) === phase ? p : [...p, phase]));
  }, [phase]);
  useEffect(() => {
    setPhases([]);
    setJob(initial);
    if (!id) return;
    const source = new EventSource(`jobs/${seg(id)}/events`);
    const onJob = (m: MessageEvent<string>) => {
      const data = JSON.parse(m.data) as { job?: Job; phase?: string; fraction?: number };
      if (data.job) setJob(data.job);
      else if (data.phase !== undefined && data.fraction !== undefined) {
        const progress = { phase: data.phase, fraction: data.fraction };
        setJob((j) => (j ? { ...j, state: 'running', progress } : j));
      }
    };
    for (const type of [
      'job.snapshot',
      'job.started',
      'job.progress',
      'job.succeeded',
      'job.failed',
      'job.cancelled',
    ])
      source.addEventListener(type, onJob as EventListener);
    source.onerror = () => {
      // The stream ends after the terminal event; read the final state once.
      source.close();
      api.get<{ job: Job }>(`jobs/${seg(id)}`).then(
        (d) => setJob(d.job),
        () => undefined,
      );
    };
    return () => source.close();
    // `initial` changes only with its id.
  }, [id]);
  return { job, phases };
}

function JobProgress({ job, phases }: { job: Job; phases: string[] }) {
  const pct = Math.round(job.progress.fraction * 100);
  return (
    <div className="job" data-testid="job" data-state={job.state} data-phases={phases.join(' ')}>
      <p>
        Job <code>{job.id.slice(0, 8)}</code>: <strong data-testid="job-state">{job.state}</strong>
        {job.state === 'running' || job.state === 'queued' ? ` — ${job.progress.phase}` : ''}
      </p>
      <progress max={100} value={pct} aria-label="Training progress">
        {pct} %
      </progress>{' '}
      <span className="num">{pct} %</span>
      {job.state === 'succeeded' && job.result ? (
        <p data-testid="job-result">
          Done: run <a href={to.run(job.result.runId)}>{job.result.runId.slice(0, 8)}</a>
          {job.result.model && job.result.version ? (
            <>
              {' '}
              registered as{' '}
              <a href={to.version(job.result.model, job.result.version)}>
                {job.result.model} v{job.result.version}
              </a>
            </>
          ) : null}
          .
        </p>
      ) : null}
      {job.error ? (
        <p className="state-error" role="alert">
          {job.error.message} ({job.error.code})
        </p>
      ) : null}
    </div>
  );
}

function TrainForm({ datasets }: { datasets: DatasetVersion[] }) {
  const notify = useNotify();
  const [dataset, setDataset] = useState(datasets[0]?.name ?? '');
  const columns = datasets.find((d) => d.name === dataset)?.columns ?? [];
  const [target, setTarget] = useState('');
  const [type, setType] = useState(MODEL_TYPES[0]!);
  const [params, setParams] = useState('{ "nEstimators": 20, "maxDepth": 6 }');
  const [experiment, setExperiment] = useState('');
  const [runName, setRunName] = useState('');
  const [register, setRegister] = useState('');
  const [stage, setStage] = useState('none');
  const [busy, setBusy] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const id = useId();
  const followed = useJob(job);
  const result = useRef<HTMLDivElement>(null);
  const chosenTarget = columns.some((c) => c.name === target) ? target : (columns.at(-1)?.name ?? '');

  const submit = async () => {
    let parsed: Record<string, unknown>;
    try {
      parsed = params.trim() ? (JSON.parse(params) as Record<string, unknown>) : {};
    } catch (e) {
      notify.error(`The params are not JSON: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    setBusy(true);
    try {
      const { job: submitted } = await api.post<{ job: Job }>('train', {
        experiment: experiment.trim() || dataset,
        runName: runName.trim() || `${type} on ${dataset}`,
        dataset,
        target: chosenTarget,
        model: { type, params: parsed },
        ...(register.trim() ? { register: { name: register.trim(), stage } } : {}),
      });
      setJob(submitted);
      notify.success(`Training job ${submitted.id.slice(0, 8)} submitted.`);
      result.current?.focus();
    } catch (e) {
      notify.error(`Training failed to start: ${messageOf(e)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <form
        className="stack-form"
        aria-label="Train a model"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div className="field">
          <label htmlFor={`${id}-dataset`}>Dataset</label>
          <select id={`${id}-dataset`} value={dataset} onChange={(e) => setDataset(e.target.value)} required>
            {datasets.map((d) => (
              <option key={d.name} value={d.name}>
                {d.name} (v{d.version}, {d.rows} rows)
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-target`}>Target column</label>
          <select
            id={`${id}-target`}
            value={chosenTarget}
            onChange={(e) => setTarget(e.target.value)}
            required
          >
            {columns.map((c) => (
              <option key={c.name} value={c.name}>
                {c.name} ({c.type})
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-type`}>Model type</label>
          <select id={`${id}-type`} value={type} onChange={(e) => setType(e.target.value)}>
            {MODEL_TYPES.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <label className="field">
          Params (JSON)
          <input type="text" value={params} onChange={(e) => setParams(e.target.value)} spellCheck={false} />
        </label>
        <label className="field">
          Experiment (default: the dataset&apos;s name)
          <input type="text" value={experiment} onChange={(e) => setExperiment(e.target.value)} />
        </label>
        <label className="field">
          Run name
          <input
            type="text"
            value={runName}
            placeholder={`${type} on ${dataset}`}
            maxLength={256}
            onChange={(e) => setRunName(e.target.value)}
          />
        </label>
        <label className="field">
          Register as model (optional)
          <input type="text" value={register} onChange={(e) => setRegister(e.target.value)} />
        </label>
        <div className="field">
          <label htmlFor={`${id}-stage`}>Stage of the new version</label>
          <select
            id={`${id}-stage`}
            value={stage}
            onChange={(e) => setStage(e.target.value)}
            disabled={!register.trim()}
          >
            {['none', 'staging', 'production'].map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="primary" disabled={busy || !dataset}>
          {busy ? 'Submitting…' : 'Train'}
        </button>
      </form>
      <div ref={result} tabIndex={-1} aria-live="polite">
        {followed.job ? <JobProgress job={followed.job} phases={followed.phases} /> : null}
      </div>
    </>
  );
}

/** Train a model from a catalog dataset as a job (progress streamed), or upload an ONNX model. */
export function TrainPage() {
  useTitle('Train');
  const canEdit = useCanEdit()();
  const datasets = useApi<{ datasets: DatasetVersion[] }>('datasets');
  return (
    <>
      <h1>Train or upload a model</h1>
      {!canEdit ? (
        <p className="muted">Your role does not allow training or uploads (it needs editor).</p>
      ) : null}
      <div className="grid">
        <section className="card" aria-labelledby="train-heading">
          <h2 id="train-heading">Train from a dataset</h2>
          <Async
            state={datasets}
            what="the datasets"
            isEmpty={(d) => d.datasets.length === 0}
            empty={
              <p>
                No datasets yet: <a href={to.datasets()}>upload a CSV</a> first.
              </p>
            }
          >
            {(d) => (canEdit ? <TrainForm datasets={d.datasets} /> : <p className="muted">—</p>)}
          </Async>
        </section>
        <section className="card" aria-labelledby="onnx-heading">
          <h2 id="onnx-heading">Upload an ONNX model</h2>
          {canEdit ? <OnnxUpload /> : <p className="muted">—</p>}
        </section>
      </div>
    </>
  );
}
