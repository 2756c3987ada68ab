/**
 * The value at `path` (keys and indexes) inside parsed JSON, for tests that check one deep value of a
 * large document (a schema, a lockfile) without typing all of it. Like a chain of property reads, it
 * throws when a step is reached through a value that holds no keys (null, a string, a missing key);
 * the last key, if absent, gives undefined.
 */
export function jsonAt(value: unknown, ...path: readonly (string | number)[]): unknown {
  let current = value;
  for (const [index, key] of path.entries()) {
    if (typeof current !== 'object' || current === null) {
      throw new TypeError(`no ${JSON.stringify(key)} at /${path.slice(0, index).join('/')}: the value there is ${JSON.stringify(current)}`);
    }
    current = (current as Readonly<Record<string | number, unknown>>)[key];
  }
  return current;
}
