/**
 * Every error modelreg raises is a {@link RegistryError} with one of these codes.
 *
 * - `NOT_FOUND`: the named thing does not exist (on change; reads return `null`).
 * - `ALREADY_EXISTS`: a create met an existing name.
 * - `CONFLICT`: the change contradicts current state (a param logged again with another value,
 *   an alias compare-and-set that lost, a run that already ended).
 * - `INVALID_ARGUMENT`: the input is malformed (a name, a URI, a metric value, a CSV, a key).
 * - `INVALID_CONFIG`: options given to a factory or to `ModelRegistry.open` are wrong.
 * - `INTEGRITY`: stored bytes do not match their recorded sha256 or size.
 * - `STORE_FAILURE`: a store failed in a way it did not report as one of the above.
 * - `UNSUPPORTED`: the operation is valid but this store or format cannot do it.
 * - `ABORTED`: the caller's `AbortSignal` fired; the call stopped and left nothing behind.
 * - `UNAUTHENTICATED`: no credentials, or credentials that match no live token (a host answers 401).
 * - `PERMISSION_DENIED`: the principal a registry acts as (`registry.as(principal)`) may not do this:
 *   its role is too low, or its model grants do not include the model (a host answers 403).
 */
export const registryErrorCodes = [
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'CONFLICT',
  'INVALID_ARGUMENT',
  'INVALID_CONFIG',
  'INTEGRITY',
  'STORE_FAILURE',
  'UNSUPPORTED',
  'ABORTED',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
] as const;

export type RegistryErrorCode = (typeof registryErrorCodes)[number];

const BRAND = Symbol.for('modelreg.RegistryError');

export interface RegistryErrorOptions {
  cause?: unknown;
  /** Where the error happened, e.g. `meta-sqlite` or `train`; shown in the message. */
  where?: string;
  /** Structured details for programs (row, column, field, ...). */
  details?: Record<string, unknown>;
}

/** The one error class of modelreg. Check it with {@link isRegistryError}, which works across copies of the package. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly where: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly [BRAND] = true;

  /**
   * `instanceof RegistryError` holds for errors of any copy of this class — the ESM and the CJS
   * build loaded in one process, or two installed versions — because it checks the brand.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isRegistryError(value);
  }

  constructor(code: RegistryErrorCode, message: string, options: RegistryErrorOptions = {}) {
    const prefix = options.where ? `[modelreg] [${options.where}] ` : '[modelreg] ';
    super(message.startsWith('[modelreg]') ? message : prefix + message, { cause: options.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.where = options.where;
    this.details = options.details;
  }

  toJSON(): { name: string; code: RegistryErrorCode; message: string; details?: Record<string, unknown> } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

/** True when `e` is a RegistryError (optionally with the given code), even from another copy of the package. */
export function isRegistryError(e: unknown, code?: RegistryErrorCode): e is RegistryError {
  if (typeof e !== 'object' || e === null) return false;
  const branded = (e as Record<symbol, unknown>)[BRAND] === true;
  if (!branded) return false;
  return code === undefined || (e as RegistryError).code === code;
}

export const notFound = (message: string, where?: string): RegistryError =>
  new RegistryError('NOT_FOUND', message, { where });
export const invalidArgument = (
  message: string,
  where?: string,
  details?: Record<string, unknown>,
): RegistryError => new RegistryError('INVALID_ARGUMENT', message, { where, details });
export const conflict = (message: string, where?: string): RegistryError =>
  new RegistryError('CONFLICT', message, { where });
export const alreadyExists = (message: string, where?: string): RegistryError =>
  new RegistryError('ALREADY_EXISTS', message, { where });

/**
 * The `ABORTED` error of a call whose `signal` fired; the signal's reason is the `cause`. `what`
 * names the call (`train`), shown in the message.
 */
export function abortedError(signal: AbortSignal | undefined, what: string): RegistryError {
  const reason: unknown = signal?.reason;
  const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new RegistryError('ABORTED', `${what} was aborted${why}`, { where: what, cause: reason });
}

/** Throws {@link abortedError} when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted) throw abortedError(signal, what);
}
