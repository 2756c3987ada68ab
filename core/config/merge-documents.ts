import { childPointer, parentPointer, type SourceMap } from './source-map.js';

/** A parsed document and the positions of its values. */
export interface LocatedDocument {
  readonly value: unknown;
  readonly sourceMap: SourceMap;
}

/** Whether a value is a plain mapping (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `pointer` is one of `roots` or lies below one of them. */
function isWithin(pointer: string, roots: ReadonlySet<string>): boolean {
  for (let current = pointer; ; current = parentPointer(current)) {
    if (roots.has(current)) return true;
    if (current === '') return false;
  }
}

/**
 * `extends` semantics: mappings merge key by key, anything else (arrays included) in `override`
 * replaces what `base` had. Positions follow the values, so an inherited value still names the
 * file it was written in, and a replaced one names the file that replaced it. Every value of
 * `override` ends up in the result, so all its positions are kept (a mapping both write is thus
 * reported, for a missing key, where the most derived file writes it); a position of `base` is
 * kept unless it lies in a value that `override` replaced. (One pass over each map: copying a subtree's
 * positions key by key costs the size of the map per key, minutes for a mapping of 50,000 keys.)
 */
export function mergeDocuments(base: LocatedDocument, override: LocatedDocument): LocatedDocument {
  const replaced = new Set<string>();
  const value = mergeValue(base.value, override.value, '', replaced);
  const sourceMap: SourceMap = new Map();
  for (const [entry, location] of base.sourceMap) if (!isWithin(entry, replaced)) sourceMap.set(entry, location);
  for (const [entry, location] of override.sourceMap) sourceMap.set(entry, location);
  return { value, sourceMap };
}

function mergeValue(base: unknown, override: unknown, pointer: string, replaced: Set<string>): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) {
    replaced.add(pointer);
    return override;
  }
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    result[key] = key in base ? mergeValue(base[key], value, childPointer(pointer, key), replaced) : value;
  }
  return result;
}
