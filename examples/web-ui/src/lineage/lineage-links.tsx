import type { ModelVersion } from '../api.js';
import { StageBadge } from '../components/bits.js';
import { to } from '../router.js';
import type { DatasetRef, LineageIndex } from './lineage.js';
import { datasetOf, lineageQueries } from './lineage.js';

/** "iris v2" linking to the dataset page (the version is kept in the link's text). */
export function DatasetLink({ dataset }: { dataset: DatasetRef }) {
  return (
    <a href={to.dataset(dataset.name)} data-lineage="dataset">
      {dataset.name}
      {dataset.version !== null ? ` v${dataset.version}` : ''}
    </a>
  );
}

export function VersionLink({ version }: { version: Pick<ModelVersion, 'name' | 'version'> }) {
  return (
    <a href={to.version(version.name, version.version)} data-lineage="version">
      {version.name} v{version.version}
    </a>
  );
}

/** "current: v2 (production), 75 %; next: v3, 25 %" for a deployment. */
export function describeDeployment(
  d: LineageIndex['deployments'][number],
  resolve: (ref: number | string) => number | null,
): string {
  const arm = (which: 'current' | 'next', share: number) => {
    const ref = d[which].ref;
    const v = resolve(ref);
    const refText = typeof ref === 'number' || /^\d+$/.test(String(ref)) ? '' : ` (${ref})`;
    return `${which}: ${v !== null ? `v${v}` : String(ref)}${refText}, ${Math.round(share * 100)} %`;
  };
  return `${arm('current', 1 - d.weight)}; ${arm('next', d.weight)}${d.shadow ? ' (shadow: next answers nobody)' : ''}`;
}

/** The chain dataset → run → version → deployments around one model version, as links. */
export function LineagePanel({ index, version }: { index: LineageIndex | undefined; version: ModelVersion }) {
  if (!index) return <p className="muted">Reading the lineage…</p>;
  const run = lineageQueries.run(index, version.runId);
  const dataset = run ? datasetOf(run) : null;
  const siblings = run
    ? lineageQueries
        .versionsOfRun(index, run.id)
        .filter((v) => v !== version && !(v.name === version.name && v.version === version.version))
    : [];
  const deployments = lineageQueries.deploymentsOf(index, version.name, version.version);
  return (
    <ol className="lineage" data-testid="lineage">
      <li>
        <span className="lineage-kind">Dataset</span>
        {dataset ? (
          <DatasetLink dataset={dataset} />
        ) : (
          <span className="muted">not recorded (the model was not trained here)</span>
        )}
      </li>
      <li>
        <span className="lineage-kind">Run</span>
        {run ? (
          <a href={to.run(run.id)} data-lineage="run">
            {run.name} <span className="muted small">({run.experiment})</span>
          </a>
        ) : (
          <span className="muted">{version.runId ? version.runId : 'none'}</span>
        )}
      </li>
      <li aria-current="true">
        <span className="lineage-kind">Version</span>
        <strong>
          {version.name} v{version.version}
        </strong>{' '}
        <StageBadge stage={version.stage} />
        {siblings.length ? (
          <span className="muted small">
            {' '}
            also registered as{' '}
            {siblings.map((s, i) => (
              <span key={`${s.name}/${s.version}`}>
                {i ? ', ' : ''}
                <VersionLink version={s} />
              </span>
            ))}
          </span>
        ) : null}
      </li>
      <li>
        <span className="lineage-kind">Deployment</span>
        {deployments.length ? (
          deployments.map(({ deployment, arms }) => (
            <a key={deployment.model} href={`${to.model(deployment.model)}`} data-lineage="deployment">
              canary of {deployment.model}: serves this version as {arms.join(' and ')}
            </a>
          ))
        ) : (
          <span className="muted">
            no canary serves it
            {version.stage !== 'none'
              ? `; predictions for stage ${version.stage} use it while it is the newest there`
              : ''}
          </span>
        )}
      </li>
    </ol>
  );
}
