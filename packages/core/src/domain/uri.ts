import { RegistryError } from '../errors.js';
import { nameSchema } from './names.js';
import { invalidInput } from './parse.js';

/** What a `models:/…` or `runs:/…` URI selects. */
export type ModelUri =
  | { kind: 'model'; name: string; selector: { type: 'version'; version: number } }
  | { kind: 'model'; name: string; selector: { type: 'latest' } }
  | { kind: 'model'; name: string; selector: { type: 'stage'; stage: string } }
  | { kind: 'model'; name: string; selector: { type: 'alias'; alias: string } }
  | { kind: 'run'; runId: string; path: string };

const runIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

function bad(uri: string, why: string): never {
  throw new RegistryError(
    'INVALID_ARGUMENT',
    `URI ${JSON.stringify(uri)} is malformed: ${why}. Expected models:/<name>/<version|latest|stage>, models:/<name>@<alias> or runs:/<runId>/<path>`,
    { where: 'resolve' },
  );
}

function checkName(uri: string, value: string, what: string): string {
  const parsed = nameSchema.safeParse(value);
  if (parsed.success) return value;
  throw invalidInput(parsed.error, {
    what: `the ${what} of URI ${JSON.stringify(uri)}`,
    where: 'resolve',
    value,
  });
}

/**
 * Parses a model URI. Stage names are returned as written; the registry matches them to its
 * configured stages case-insensitively.
 */
export function parseModelUri(uri: unknown): ModelUri {
  if (typeof uri !== 'string') return bad(String(uri), 'it must be a string');
  if (uri.startsWith('models:/')) {
    const rest = uri.slice('models:/'.length);
    const at = rest.indexOf('@');
    if (at >= 0) {
      if (rest.includes('/')) bad(uri, 'an alias URI has no "/" after the name');
      const name = checkName(uri, rest.slice(0, at), 'model name');
      const alias = checkName(uri, rest.slice(at + 1), 'alias');
      return { kind: 'model', name, selector: { type: 'alias', alias } };
    }
    const parts = rest.split('/');
    if (parts.length !== 2) bad(uri, 'expected exactly two segments after "models:/"');
    const name = checkName(uri, parts[0]!, 'model name');
    const sel = parts[1]!;
    if (/^\d+$/.test(sel)) {
      const version = Number(sel);
      if (version < 1 || !Number.isSafeInteger(version)) bad(uri, `version ${sel} must be an integer from 1`);
      return { kind: 'model', name, selector: { type: 'version', version } };
    }
    if (sel.toLowerCase() === 'latest') return { kind: 'model', name, selector: { type: 'latest' } };
    checkName(uri, sel, 'stage');
    return { kind: 'model', name, selector: { type: 'stage', stage: sel } };
  }
  if (uri.startsWith('runs:/')) {
    const rest = uri.slice('runs:/'.length);
    const slash = rest.indexOf('/');
    const runId = slash < 0 ? rest : rest.slice(0, slash);
    const path = slash < 0 ? '' : rest.slice(slash + 1).replace(/\/+$/, '');
    if (!runIdPattern.test(runId)) bad(uri, `run id ${JSON.stringify(runId)} is invalid`);
    if (path === '') bad(uri, 'a runs:/ URI needs an artifact path after the run id');
    for (const segment of path.split('/')) {
      if (
        segment === '' ||
        segment === '.' ||
        segment === '..' ||
        segment.includes('\\') ||
        segment.includes('\0')
      ) {
        bad(uri, `artifact path ${JSON.stringify(path)} is not a safe relative path`);
      }
    }
    return { kind: 'run', runId, path };
  }
  return bad(uri, 'it must start with "models:/" or "runs:/"');
}

/**
 * The `models:/` URI of a model's version (`3`), `'latest'`, a stage (`'production'`) or an alias
 * (`{ alias: 'champion' }`): the inverse of {@link parseModelUri}.
 */
export function formatModelUri(name: string, selector: number | string | { alias: string }): string {
  if (typeof selector === 'object') return `models:/${name}@${selector.alias}`;
  return `models:/${name}/${selector}`;
}
