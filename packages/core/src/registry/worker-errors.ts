import { RegistryError, isRegistryError } from '../errors.js';
import type { RegistryErrorCode } from '../errors.js';

/** An error as it crosses a thread boundary (RegistryError fields, or a plain error's). */
export interface WorkerError {
  registry: boolean;
  code?: string;
  message: string;
  where?: string;
  details?: Record<string, unknown>;
  name?: string;
  stack?: string;
}

/** `e` as a structured-cloneable {@link WorkerError}. */
export function toWorkerError(e: unknown): WorkerError {
  if (isRegistryError(e)) {
    return {
      registry: true,
      code: e.code,
      message: e.message,
      ...(e.where !== undefined ? { where: e.where } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    };
  }
  const error = e instanceof Error ? e : new Error(String(e));
  return {
    registry: false,
    message: error.message,
    name: error.name,
    ...(error.stack ? { stack: error.stack } : {}),
  };
}

/** The error a {@link WorkerError} stands for: the same RegistryError, or an error naming `thread`. */
export function fromWorkerError(e: WorkerError, thread: string): Error {
  if (e.registry) {
    return new RegistryError(e.code as RegistryErrorCode, e.message, {
      ...(e.where !== undefined ? { where: e.where } : {}),
      ...(e.details !== undefined ? { details: e.details } : {}),
    });
  }
  const error = new Error(`[modelreg] [train] the ${thread} failed: ${e.message}`);
  if (e.stack) error.stack = e.stack;
  return error;
}
