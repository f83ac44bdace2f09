/**
 * A named position in the registry's event log, kept in the metadata store so a restarted relay
 * (or another replica) resumes where publishing stopped: core's `registry.eventCursor(name)`.
 */
export type { EventCursor } from '@modelreg/core';
