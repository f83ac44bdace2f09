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
