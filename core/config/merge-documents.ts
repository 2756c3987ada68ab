import { childPointer, type SourceMap } from './source-map.js';

/** A parsed document and the positions of its values. */
export interface LocatedDocument {
  readonly value: unknown;
  readonly sourceMap: SourceMap;
}

/** Whether a value is a plain mapping (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function copySubtree(from: SourceMap, to: SourceMap, pointer: string): void {
  for (const [entry, location] of from) {
    if (entry === pointer || entry.startsWith(pointer + '/')) to.set(entry, location);
  }
}

function deleteSubtree(map: SourceMap, pointer: string): void {
  for (const entry of [...map.keys()]) {
    if (entry === pointer || entry.startsWith(pointer + '/')) map.delete(entry);
  }
}

/**
 * `extends` semantics: mappings merge key by key, anything else (arrays included) in `override`
 * replaces what `base` had. Positions follow the values, so an inherited value still names the
 * file it was written in, and a replaced one names the file that replaced it.
 */
export function mergeDocuments(base: LocatedDocument, override: LocatedDocument): LocatedDocument {
  const sourceMap: SourceMap = new Map(base.sourceMap);
  const value = mergeValue(base.value, override.value, '', base.sourceMap, override.sourceMap, sourceMap);
  return { value, sourceMap };
}

function mergeValue(base: unknown, override: unknown, pointer: string, baseMap: SourceMap, overrideMap: SourceMap, merged: SourceMap): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) {
    deleteSubtree(merged, pointer);
    copySubtree(overrideMap, merged, pointer);
    return override;
  }
  // The mapping itself is reported (missing keys) where the most derived file writes it.
  const own = overrideMap.get(pointer);
  if (own) merged.set(pointer, own);
  const result: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const child = childPointer(pointer, key);
    result[key] = key in base ? mergeValue(base[key], value, child, baseMap, overrideMap, merged) : (copySubtree(overrideMap, merged, child), value);
  }
  return result;
}
