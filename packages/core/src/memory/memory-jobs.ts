import type { Job } from '../domain/jobs.js';
import type { JobMethods } from '../stores/metadata-store.js';
import * as rules from '../stores/job-rules.js';
import { WHERE } from './memory-state.js';
import type { Journal } from './memory-state.js';

/** The memory store's training jobs: each change validates and writes without awaiting in between. */
export function memoryJobMethods(journal: Journal): JobMethods {
  const jobs = new Map<string, Job>();
  const byKey = new Map<string, string>();
  const copy = (job: Job): Job => structuredClone(job);
  const save = (change: { job: Job; event: Parameters<Journal['emit']>[0] | null }): Job => {
    jobs.set(change.job.id, change.job);
    if (change.event) journal.emit(change.event);
    return copy(change.job);
  };

  return {
    async createJob(input) {
      const existing = input.idempotencyKey === null ? undefined : byKey.get(input.idempotencyKey);
      if (existing !== undefined) return { job: copy(jobs.get(existing)!), created: false };
      if (jobs.has(input.id)) {
        throw rules.jobExists(WHERE, input.id);
      }
      const job = rules.newJobRecord(input);
      if (input.idempotencyKey !== null) byKey.set(input.idempotencyKey, job.id);
      return { job: save({ job, event: rules.submittedEvent(job) }), created: true };
    },
    async getJob(id) {
      const job = jobs.get(id);
      return job ? copy(job) : null;
    },
    async listJobs(query) {
      const states = query.states && new Set(query.states);
      return [...jobs.values()]
        .filter(
          (j) =>
            (!states || states.has(j.state)) && (!query.submittedBy || j.submittedBy === query.submittedBy),
        )
        .sort(rules.compareJobsNewestFirst)
        .slice(query.offset, query.offset + query.limit)
        .map(copy);
    },
    async claimJob(claim) {
      const candidates =
        claim.id === undefined
          ? [...jobs.values()]
              .filter((j) => rules.isClaimable(j, claim.time))
              .sort(rules.compareJobsOldestFirst)
          : [jobs.get(claim.id)].filter((j): j is Job => j !== undefined);
      for (const job of candidates) {
        const change = rules.claimJob(job, claim);
        if (!change) continue;
        const saved = save(change);
        if (saved.state === 'running') return saved;
      }
      return null;
    },
    async renewJob(change) {
      const job = jobs.get(change.id);
      const next = job && rules.renewJob(job, change);
      return next ? save(next) : null;
    },
    async finishJob(change) {
      const job = jobs.get(change.id);
      const next = job && rules.finishJob(job, change);
      return next ? save(next) : null;
    },
  };
}
