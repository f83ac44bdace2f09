import { z } from 'zod';

/**
 * Records keyed by a user's string (tags, params, metrics, aliases, features, classes). Every key
 * in `[A-Za-z0-9._-]` is valid, `__proto__`, `constructor` and `toString` included, so a record is
 * read through own properties only and written with data-property semantics: `record[key] = v`
 * with `key === '__proto__'` would replace the object's prototype instead of storing a value.
 */

/** `record[key]` when `key` is an own property, else `undefined` (never an `Object.prototype` member). */
export function ownValue<V>(record: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Stores `value` under `key` as an own, enumerable property, `__proto__` included. */
export function setOwn<V>(record: Record<string, V>, key: string, value: V): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** Copies every own entry of `source` into `target` with {@link setOwn} (an `Object.assign` that keeps `__proto__`). */
export function assignOwn<V>(target: Record<string, V>, source: Readonly<Record<string, V>>): void {
  for (const [key, value] of Object.entries(source)) setOwn(target, key, value);
}

const isPlainRecord = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/** The JSON schema of a record's values, for generators that cannot see through a transform. */
function valuesJsonSchema(value: z.ZodType): Record<string, unknown> {
  try {
    const { $schema: _, ...schema } = z.toJSONSchema(value, { io: 'input', unrepresentable: 'any' });
    return schema;
  } catch {
    return {};
  }
}

/**
 * `z.record(key, value)` that keeps every own key. zod's record drops a `__proto__` key without an
 * issue, which silently lost tags and params of that name; this one parses each own entry and
 * builds the output with `Object.fromEntries`, so `__proto__` stays an ordinary key. Its metadata
 * describes it as a JSON object (`additionalProperties`) for OpenAPI and JSON Schema generators.
 */
export function ownRecordSchema<V extends z.ZodType>(
  key: z.ZodType<string>,
  value: V,
): z.ZodType<Record<string, z.output<V>>, Record<string, z.input<V>>> {
  return z
    .custom<Record<string, z.input<V>>>(isPlainRecord, 'expected an object of keys to values')
    .transform((input, ctx) => {
      const out: Array<[string, z.output<V>]> = [];
      for (const [k, v] of Object.entries(input)) {
        const parsedKey = key.safeParse(k);
        if (!parsedKey.success) {
          ctx.addIssue({ code: 'custom', path: [k], message: `key: ${parsedKey.error.issues[0]?.message}` });
          continue;
        }
        const parsed = value.safeParse(v);
        if (!parsed.success) {
          for (const issue of parsed.error.issues) {
            ctx.addIssue({ code: 'custom', path: [k, ...issue.path], message: issue.message });
          }
          continue;
        }
        out.push([parsedKey.data, parsed.data as z.output<V>]);
      }
      return Object.fromEntries(out);
    })
    .meta({ type: 'object', additionalProperties: valuesJsonSchema(value) });
}
