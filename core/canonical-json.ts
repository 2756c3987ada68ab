import crypto from 'node:crypto';

/**
 * The canonical JSON form of a value: object keys sorted by code point, no whitespace, `undefined`
 * properties dropped (as `JSON.stringify` does), arrays kept in order. Two values that mean the same
 * thing give the same text whatever order their keys were built in, so the text can be hashed into
 * cache keys and stage signatures. Non-finite numbers, functions, symbols and bigints have no JSON
 * meaning and are refused rather than silently changed (a key that silently collides would be a bug).
 */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(value: unknown, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: non-finite number at ${where}`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((item, index) => (item === undefined ? 'null' : write(item, `${where}[${index}]`))).join(',')}]`;
      }
      const withJson = value as { toJSON?: () => unknown };
      if (typeof withJson.toJSON === 'function') return write(withJson.toJSON(), where);
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${write(record[key], `${where}.${key}`)}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: cannot encode ${typeof value} at ${where}`);
  }
}

/**
 * The one-shot `hash` (Node 20.12 and later), which makes no Hash object: the request engine hashes
 * every request on its path. Node 20.11, which the package still supports, has only `createHash`;
 * a named import of `hash` would fail to load there, so it is looked up on the module, once.
 */
const oneShotHash = (crypto as { hash?: typeof crypto.hash }).hash;

/** Lower-case hex SHA-256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
  if (oneShotHash) return oneShotHash('sha256', text, 'hex');
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/** SHA-256 of the canonical JSON of a value: the one hash for cache keys and stage signatures. */
export function canonicalHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
