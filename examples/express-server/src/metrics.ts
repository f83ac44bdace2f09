import type { Request, RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsOptions {
  /** Also export the process metrics of prom-client (CPU, memory, event loop). Default `true`. */
  defaultMetrics?: boolean;
  /** Prefix of every metric name. Default `modelreg_`. */
  prefix?: string;
}

/** The Prometheus metrics of one app, in their own registry (two apps in one process do not collide). */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Counts and times every request by method, route pattern and status. */
  readonly middleware: RequestHandler;
  /** Adds `rows` predictions served by `model` version `version`. */
  countPredictions(model: string, version: number | null, rows: number): void;
  /** Counts an error answer by its code. */
  countError(code: string): void;
}

/**
 * The route pattern that matched (`/models/:name/predict`), never the raw URL, so label values stay
 * few; unmatched requests are `(unmatched)`.
 */
function routeLabel(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? `${req.baseUrl}${route}` : '(unmatched)';
}

export function createMetrics(options: MetricsOptions = {}): ServerMetrics {
  const prefix = options.prefix ?? 'modelreg_';
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix });

  const requests = new Counter({
    name: `${prefix}http_requests_total`,
    help: 'HTTP requests answered, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${prefix}http_request_duration_seconds`,
    help: 'HTTP request latency in seconds, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const predictions = new Counter({
    name: `${prefix}predictions_total`,
    help: 'Rows predicted, by model and the version that served them',
    labelNames: ['model', 'version'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: `${prefix}http_errors_total`,
    help: 'Error answers, by error code',
    labelNames: ['code'] as const,
    registers: [registry],
  });

  const middleware: RequestHandler = (req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const labels = { method: req.method, route: routeLabel(req), status: String(res.statusCode) };
      requests.inc(labels);
      latency.observe(labels, Number(process.hrtime.bigint() - start) / 1e9);
    });
    next();
  };

  return {
    registry,
    middleware,
    countPredictions(model, version, rows) {
      predictions.inc({ model, version: version === null ? 'run' : String(version) }, rows);
    },
    countError(code) {
      errors.inc({ code });
    },
  };
}
