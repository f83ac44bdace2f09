import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { RegistryErrorCode } from '../../src/errors.js';

export const fixture = (name: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../fixtures/datasets/${name}`, import.meta.url)));

/** Yields `text` as UTF-8 bytes in chunks of `size` bytes (splitting multi-byte characters too). */
export async function* chunked(text: string | Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}

/** Awaits `promise`, expects a RegistryError with `code`, and returns it. */
export async function expectRegistryError(
  promise: Promise<unknown>,
  code: RegistryErrorCode,
  messagePattern?: RegExp,
): Promise<Error & { code: string; details?: Record<string, unknown> }> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a rejection').toBeDefined();
  if (!isRegistryError(caught)) throw caught;
  expect(caught.code).toBe(code);
  if (messagePattern) expect(caught.message).toMatch(messagePattern);
  return caught;
}
