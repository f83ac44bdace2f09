import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { LifecycleView } from '@modelreg/core';
import { invalidParameter } from './errors.js';

/** A request's parameters: the query string of a GET, the JSON body otherwise (as MLflow's server reads them). */
export function paramsOf(req: Request): Record<string, unknown> {
  const source: unknown = req.method === 'GET' ? req.query : req.body;
  if (source === undefined || source === null) return {};
  if (typeof source !== 'object' || Array.isArray(source)) {
    throw invalidParameter('The request body must be a JSON object');
  }
  return source as Record<string, unknown>;
}

const missing = (field: string) => invalidParameter(`Missing value for required parameter '${field}'`);

export function requiredString(p: Record<string, unknown>, field: string): string {
  const v = p[field];
  if (v === undefined || v === null || v === '') throw missing(field);
  if (typeof v !== 'string') {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a string`,
    );
  }
  return v;
}

export function optionalString(p: Record<string, unknown>, field: string): string | undefined {
  const v = p[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a string`,
    );
  }
  return v;
}

/** A run id from `run_id` or the older `run_uuid`. */
export function runIdOf(p: Record<string, unknown>): string {
  const id = optionalString(p, 'run_id') || optionalString(p, 'run_uuid');
  if (!id) throw missing('run_id');
  return id;
}

/** An integer given as a JSON number or a string of digits (query strings, int64 as JSON strings). */
export function optionalInteger(
  p: Record<string, unknown>,
  field: string,
  bounds: { min?: number; max?: number } = {},
): number | undefined {
  const v = p[field];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected an integer`,
    );
  }
  if ((bounds.min !== undefined && n < bounds.min) || (bounds.max !== undefined && n > bounds.max)) {
    throw invalidParameter(
      `Invalid value ${n} for parameter '${field}' supplied: it must be between ${bounds.min ?? '-inf'} and ${bounds.max ?? 'inf'}`,
    );
  }
  return n;
}

/** A double given as a JSON number or a numeric string (`"NaN"`, `"Infinity"` are refused by core). */
export function requiredNumber(p: Record<string, unknown>, field: string): number {
  const v = p[field];
  if (v === undefined || v === null || v === '') throw missing(field);
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (Number.isNaN(n) && v !== 'NaN') {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a number`,
    );
  }
  return n;
}

export function optionalBoolean(p: Record<string, unknown>, field: string): boolean | undefined {
  const v = p[field];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'True') return true;
  if (v === 'false' || v === 'False') return false;
  throw invalidParameter(
    `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected a boolean`,
  );
}

const viewTypes: Record<string, LifecycleView> = {
  ACTIVE_ONLY: 'active',
  DELETED_ONLY: 'deleted',
  ALL: 'all',
  '1': 'active',
  '2': 'deleted',
  '3': 'all',
};

/**
 * MLflow's `ViewType` (`ACTIVE_ONLY` = 1, `DELETED_ONLY` = 2, `ALL` = 3; by name or number) as a
 * lifecycle view; `ACTIVE_ONLY` when absent.
 */
export function viewTypeOf(p: Record<string, unknown>, field: string): LifecycleView {
  const v = p[field];
  if (v === undefined || v === null || v === '') return 'active';
  const view = typeof v === 'string' || typeof v === 'number' ? viewTypes[String(v)] : undefined;
  if (!view) {
    throw invalidParameter(
      `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected ACTIVE_ONLY, DELETED_ONLY or ALL`,
    );
  }
  return view;
}

/** A repeated string field: a JSON array, or one or several query parameters. */
export function stringList(p: Record<string, unknown>, field: string): string[] {
  const v = p[field];
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  for (const item of list) {
    if (typeof item !== 'string') {
      throw invalidParameter(
        `Invalid value ${JSON.stringify(v)} for parameter '${field}' supplied: expected strings`,
      );
    }
  }
  return list as string[];
}

/** `[{ key, value }]` (MLflow's tag and param lists) as a record; the last of a repeated key wins. */
export function keyValueList(p: Record<string, unknown>, field: string): Record<string, string> {
  const v = p[field];
  if (v === undefined || v === null) return {};
  if (!Array.isArray(v))
    throw invalidParameter(`Invalid value for parameter '${field}' supplied: expected a list`);
  const out: Record<string, string> = {};
  v.forEach((item: unknown, i) => {
    if (typeof item !== 'object' || item === null) {
      throw invalidParameter(`Invalid value for parameter '${field}[${i}]': expected { key, value }`);
    }
    const o = item as Record<string, unknown>;
    const key = requiredString(o, 'key');
    const value = o['value'] ?? '';
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw invalidParameter(`Invalid value for parameter '${field}[${i}].value': expected a string`);
    }
    Object.defineProperty(out, key, {
      value: String(value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  });
  return out;
}

/**
 * Page tokens of the router's own pagination: an offset bound to the query it was made for (a token
 * reused with another filter or order is INVALID_PARAMETER_VALUE, not a silently wrong page).
 */
export function encodeToken(offset: number, query: unknown): string {
  return Buffer.from(JSON.stringify({ o: offset, q: fingerprint(query) })).toString('base64url');
}

export function decodeToken(token: string | undefined, query: unknown): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      o?: unknown;
      q?: unknown;
    };
    if (Number.isSafeInteger(parsed.o) && (parsed.o as number) >= 0 && parsed.q === fingerprint(query)) {
      return parsed.o as number;
    }
  } catch {
    // fall through
  }
  throw invalidParameter(`Invalid page token ${JSON.stringify(token)}: it was not made by this search`);
}

const fingerprint = (query: unknown): string =>
  createHash('sha256').update(JSON.stringify(query)).digest('base64url').slice(0, 16);
