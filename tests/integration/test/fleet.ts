/**
 * Timings of the worker-death test's fleet, shared by the test and its worker processes. They keep
 * the README's rule (lease < expiry > longest training + lease) at test speed: a dead worker's job
 * is retried after about expireInSeconds + maintenanceIntervalSeconds + retryDelay = 12 s.
 */
export const fleetTimings = {
  registry: { leaseMs: 2_000, maxAttempts: 3 },
  queue: {
    expireInSeconds: 10,
    maintenanceIntervalSeconds: 1,
    retryDelay: 1,
    pollingIntervalSeconds: 0.5,
  },
} as const;
