import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseArg } from '../domain/names.js';
import { cursorNameSchema } from '../domain/webhooks.js';
import { RegistryError } from '../errors.js';
import type { MetadataStore } from '../stores/metadata-store.js';

/**
 * A named position in the registry's event log, kept in the metadata store, with a lease so that of
 * several processes following the log under one name, one at a time advances it. Used by webhook
 * delivery and by event relays (`@modelreg/bus-nats`).
 */
export interface EventCursor {
  readonly name: string;
  /** Takes or renews the lease; `false` while another owner holds a live one. Creates the cursor at 0. */
  claim(): Promise<boolean>;
  /** The `seq` of the last event handled (0 before any, or when the cursor does not exist yet). */
  position(): Promise<number>;
  /** Records that events up to `seq` are handled; `CONFLICT` when this owner lost the lease. Never moves back. */
  advance(seq: number): Promise<void>;
  /** Gives the lease up, so another owner can claim at once (the position stays). */
  release(): Promise<void>;
}

export const eventCursorOptionsSchema = z.strictObject({
  /** Who holds the lease. Default: `<host>:<pid>:<random>`, unique per call. */
  owner: z.string().min(1).max(256).optional(),
  /** How long a claim holds the lease; claim again within it to keep it. Default 30 s. */
  leaseMs: z
    .number()
    .int()
    .min(1)
    .max(24 * 3600 * 1000)
    .default(30_000),
});
export type EventCursorOptions = z.input<typeof eventCursorOptionsSchema>;

const WHERE = 'eventCursor';

/** A unique lease owner for this process. */
export const defaultOwner = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

export function createEventCursor(
  metadata: MetadataStore,
  name: string,
  options: EventCursorOptions | undefined,
): EventCursor {
  const cursorName = parseArg(cursorNameSchema, name, 'cursor name', WHERE);
  const { owner = defaultOwner(), leaseMs } = parseArg(
    eventCursorOptionsSchema,
    options ?? {},
    'cursor options',
    WHERE,
  );
  const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
  return {
    name: cursorName,
    claim: () => metadata.claimCursor(cursorName, owner, leaseMs),
    position: async () => (await metadata.getCursor(cursorName))?.seq ?? 0,
    advance: async (seq) => {
      parseArg(seqSchema, seq, 'cursor position', WHERE);
      await metadata.advanceCursor(cursorName, owner, seq);
    },
    release: () => metadata.releaseCursor(cursorName, owner),
  };
}

export const cursorLost = (name: string): RegistryError =>
  new RegistryError('CONFLICT', `the lease of event cursor "${name}" was lost`, { where: WHERE });
