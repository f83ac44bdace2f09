import { registryOf } from '../auth.js';
import { Router } from 'express';
import type { Job, RegistryEvent } from '@modelreg/core';
import { terminalJobStates } from '@modelreg/core';
import type { AppContext } from '../context.js';
import { loggerOf } from '../context.js';
import { parseRequest } from '../errors.js';
import { jobParams, listJobsQuery } from '../schemas.js';
import type { EventStream } from '../sse.js';
import { openEventStream } from '../sse.js';

const terminalEvents = new Set(['job.succeeded', 'job.failed', 'job.cancelled']);

/**
 * `GET /jobs` (filters `state`, `submittedBy`; paging with `limit` + `pageToken`), `GET /jobs/:id`,
 * `DELETE /jobs/:id` (cancels; answers the job) and `GET /jobs/:id/events`, a server-sent event
 * stream: `job.snapshot` first (the job as it is now), then each `job.*` event of the registry's log
 * for this job (`job.started`, `job.progress`, `job.requeued`, …) until a terminal one
 * (`job.succeeded`, `job.failed`, `job.cancelled`, whose data carries the ended `job`), with
 * comment heartbeats in between. Events come from whatever process runs the job.
 */
export function jobRoutes(ctx: AppContext, streams: Set<() => void>): Router {
  const router = Router();
  const { registry } = ctx;

  router.get('/jobs', async (req, res) => {
    const query = parseRequest(listJobsQuery, req.query, 'query');
    const page = await registry.jobs.list({
      ...(query.state ? { state: query.state } : {}),
      ...(query.submittedBy !== undefined ? { submittedBy: query.submittedBy } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.pageToken !== undefined ? { pageToken: query.pageToken } : {}),
    });
    res.json(page);
  });

  router.get('/jobs/:id', async (req, res) => {
    const { id } = parseRequest(jobParams, req.params, 'path');
    res.json({ job: await registry.jobs.get(id) });
  });

  router.delete('/jobs/:id', async (req, res) => {
    const { id } = parseRequest(jobParams, req.params, 'path');
    const job = await registryOf(res).jobs.cancel(id);
    loggerOf(res, ctx.logger).info({ jobId: id, state: job.state }, 'job cancel');
    res.json({ job });
  });

  router.get('/jobs/:id/events', async (req, res) => {
    const { id } = parseRequest(jobParams, req.params, 'path');
    // Listen before reading the job, so nothing falls between the snapshot and the first event.
    const pending: RegistryEvent[] = [];
    // Set once the snapshot is read; events heard before then wait in `pending`.
    const live: { stream?: EventStream } = {};
    const finish = (): void => live.stream?.end();
    const forward = async (event: RegistryEvent): Promise<void> => {
      const stream = live.stream;
      if (!stream || stream.ended) return;
      if (terminalEvents.has(event.type)) {
        const job = await registry.jobs.get(id).catch(() => null);
        stream.send(event.type, { ...event.payload, ...(job ? { job } : {}) }, event.seq);
        finish();
        return;
      }
      stream.send(event.type, event.payload, event.seq);
    };
    let chain = Promise.resolve();
    const enqueue = (event: RegistryEvent): void => {
      chain = chain.then(() => forward(event)).catch(() => finish());
    };
    const unsubscribe = registry.on('*', (event) => {
      if (!event.type.startsWith('job.') || event.payload['id'] !== id) return;
      if (live.stream) enqueue(event);
      else pending.push(event);
    });
    let job: Job;
    try {
      job = await registry.jobs.get(id);
    } catch (e) {
      unsubscribe();
      throw e;
    }
    const stream = (live.stream = openEventStream(res, ctx.sseHeartbeatMs, streams));
    stream.onEnd(unsubscribe);
    stream.send('job.snapshot', { job });
    if (terminalJobStates.includes(job.state)) {
      finish();
      return;
    }
    for (const event of pending.splice(0)) enqueue(event);
    // The job may have ended after the snapshot but before the listener saw its event.
    const again = await registry.jobs.get(id).catch(() => null);
    if (again && terminalJobStates.includes(again.state) && !stream.ended) {
      chain = chain.then(() => {
        if (stream.ended) return;
        stream.send(`job.${again.state}`, { id, job: again });
        finish();
      });
    }
  });

  return router;
}
