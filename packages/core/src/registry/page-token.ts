import { RegistryError } from '../errors.js';

/**
 * Opaque page tokens of the listing calls (`searchRuns`, `jobs.list`): an offset bound to a
 * fingerprint of the query, so a token is refused by another query instead of paging it wrongly.
 */
export function encodePageToken(offset: number, fingerprint: string): string {
  return Buffer.from(JSON.stringify({ o: offset, f: fingerprint })).toString('base64url');
}

/** The offset of a token made by {@link encodePageToken} for the same query; `INVALID_ARGUMENT` otherwise. */
export function decodePageToken(token: string, fingerprint: string, where: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      o?: unknown;
      f?: unknown;
    };
    if (
      typeof parsed.o === 'number' &&
      Number.isInteger(parsed.o) &&
      parsed.o >= 0 &&
      parsed.f === fingerprint
    )
      return parsed.o;
  } catch {
    // fall through
  }
  throw new RegistryError('INVALID_ARGUMENT', 'pageToken is invalid or belongs to another query', { where });
}
