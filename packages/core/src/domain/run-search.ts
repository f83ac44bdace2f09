import { z } from 'zod';
import { ownRecordSchema } from './records.js';
import { runStatusSchema } from './types.js';

/** A numeric comparison on a run's latest metric value. Every given bound must hold. */
export const numberFilterSchema = z.strictObject({
  eq: z.number().optional(),
  gt: z.number().optional(),
  gte: z.number().optional(),
  lt: z.number().optional(),
  lte: z.number().optional(),
});
export type NumberFilter = z.output<typeof numberFilterSchema>;

/** A typed run filter: every given clause must hold (AND). */
export const runWhereSchema = z.strictObject({
  status: z.union([runStatusSchema, z.array(runStatusSchema)]).optional(),
  /** Equality on params; values are compared as strings (`1` matches `"1"`). */
  params: ownRecordSchema(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** Equality on tags. */
  tags: ownRecordSchema(z.string(), z.string()).optional(),
  /** Comparisons on the latest value of each metric; a run without the metric does not match. */
  metrics: ownRecordSchema(z.string(), numberFilterSchema).optional(),
  /** `null` selects top-level runs only. */
  parentRunId: z.string().nullable().optional(),
});
export type RunWhere = z.output<typeof runWhereSchema>;

export const sortDirectionSchema = z.enum(['asc', 'desc']);
export type SortDirection = z.output<typeof sortDirectionSchema>;

/** One sort key. Runs without the metric or param sort last, in either direction. */
export const runOrderBySchema = z.union([
  z.strictObject({ metric: z.string().min(1), direction: sortDirectionSchema.optional() }),
  z.strictObject({ param: z.string().min(1), direction: sortDirectionSchema.optional() }),
  z.strictObject({
    field: z.enum(['startTime', 'endTime', 'name']),
    direction: sortDirectionSchema.optional(),
  }),
]);
export type RunOrderBy = z.output<typeof runOrderBySchema>;
