import path from 'node:path';

/** A 1-based position in a YAML file, as printed in `file:line:col`. */
export interface SourcePosition {
  /** The file as shown to the user (relative to the working directory when inside it). */
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** Where one value of a pipeline document was written. */
export interface NodeLocation {
  /** Start of the value itself (for a mapping, its first key). */
  readonly value: SourcePosition;
  /** Start of the key naming the value, when the value sits in a mapping. */
  readonly key?: SourcePosition;
}

/**
 * Positions of a document's values by JSON pointer (`/teacher/options/max_tokens`), so that an ajv
 * `instancePath` maps straight back to `file:line:col`. After `extends` merging, each entry names the
 * file its value came from.
 */
export type SourceMap = Map<string, NodeLocation>;

/** Escapes one JSON pointer segment (`~` → `~0`, `/` → `~1`), as ajv does in `instancePath`. */
export function pointerSegment(key: string | number): string {
  return String(key).replaceAll('~', '~0').replaceAll('/', '~1');
}

/** The pointer of a child value. */
export function childPointer(parent: string, key: string | number): string {
  return `${parent}/${pointerSegment(key)}`;
}

/** The pointer of the value holding this one (`''` for the document root). */
export function parentPointer(pointer: string): string {
  const cut = pointer.lastIndexOf('/');
  return cut <= 0 ? '' : pointer.slice(0, cut);
}

/**
 * The position to report for a pointer: the key when asked for and known, else the value, else the
 * nearest ancestor's (a value distill filled in itself, such as a default, has no position of its own).
 */
export function locate(sourceMap: SourceMap, pointer: string, preferKey = false): SourcePosition | undefined {
  const exact = sourceMap.get(pointer);
  if (exact) return preferKey && exact.key ? exact.key : exact.value;
  if (pointer === '') return undefined;
  return locate(sourceMap, parentPointer(pointer));
}

/** How a file is named in messages: relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
