import { readFile } from 'node:fs/promises';
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Problem } from '../errors/problem.js';
import { childPointer, displayPath, type SourceMap, type SourcePosition } from './source-map.js';

/** One YAML file, parsed, with the position of every value. */
export interface YamlFile {
  /** Absolute path. */
  readonly file: string;
  /** The plain JavaScript value (aliases resolved); undefined when the file could not be parsed. */
  readonly value: unknown;
  readonly sourceMap: SourceMap;
  /** Syntax errors and duplicate keys, each at its `file:line:col`. */
  readonly problems: readonly Problem[];
}

/** Readable wording for the `yaml` package's error codes that users meet most. */
function syntaxMessage(code: string, message: string, source: string, start: number): string {
  if (code === 'DUPLICATE_KEY') {
    // The error's range covers only the key's first character; the key runs to its colon.
    const key = /^("[^"]*"|'[^']*'|[^:\n]*?)\s*:/.exec(source.slice(start))?.[1]?.replace(/^["']|["']$/g, '');
    return `duplicate key${key ? ` "${key}"` : ''}`;
  }
  return `YAML syntax error: ${message.replace(/; please use YAML\.parseAllDocuments\(\)$/, '')}`;
}

function syntaxFix(code: string, message: string): string | undefined {
  if (code === 'DUPLICATE_KEY') return 'remove one of the two keys; a key may appear once per mapping';
  if (code === 'MULTIPLE_DOCS') return 'a pipeline file holds one YAML document: remove the extra `---`';
  if (code === 'TAB_AS_INDENT') return 'indent with spaces, not tabs';
  if (code === 'BAD_INDENT' && message.includes('mapping items')) return 'align the keys of one mapping at the same column';
  if (message.includes('Missing closing')) return 'close the quote, or leave the value unquoted';
  return undefined;
}

/**
 * Where to report a syntax error. The parser notices an unclosed quote only at the end of the file;
 * the opening quote is where the user has to look.
 */
function syntaxOffset(message: string, source: string, start: number): number {
  const quote = /^Missing closing (["'])quote/.exec(message)?.[1];
  if (quote) {
    const opening = source.lastIndexOf(quote, Math.max(0, start - 1));
    if (opening >= 0) return opening;
  }
  return start;
}

/**
 * Reads one YAML file with a {@link LineCounter}, recording where each value and key starts so that
 * validation can report `file:line:col`. Nothing is thrown for the user's mistakes: they come back
 * as problems (a missing or unreadable file is the caller's to report, since it knows who named it).
 */
export async function readYamlFile(file: string): Promise<YamlFile> {
  const source = await readFile(file, 'utf8');
  const shown = displayPath(file);
  const lineCounter = new LineCounter();
  const document = parseDocument(source, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true });
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: shown, line, column: col };
  };
  const problems: Problem[] = document.errors.map((error) => {
    const start = syntaxOffset(error.message, source, error.pos[0]);
    const fix = syntaxFix(error.code, error.message);
    const pointer = error.code === 'DUPLICATE_KEY' ? pointerOfKeyAt(document.contents, start, '') : undefined;
    return { ...at(start), ...(pointer !== undefined ? { pointer } : {}), message: syntaxMessage(error.code, error.message, source, start), ...(fix ? { fix } : {}) };
  });
  const sourceMap: SourceMap = new Map();
  if (problems.length > 0) return { file, value: undefined, sourceMap, problems };

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    // Unresolved aliases (`*missing`) and alias bombs surface only when converting.
    const message = (error as Error).message;
    const alias = /Unresolved alias.*: (\S+)$/.exec(message)?.[1];
    const offset = alias ? Math.max(0, source.indexOf(`*${alias}`)) : 0;
    return {
      file,
      value: undefined,
      sourceMap,
      problems: [
        alias
          ? { ...at(offset), message: `unknown alias "*${alias}"`, fix: `define the anchor "&${alias}" on a value above this one` }
          : { ...at(offset), message: `YAML error: ${message}` },
      ],
    };
  }
  recordPositions(document, document.contents, '', undefined, sourceMap, at);
  return { file, value, sourceMap, problems };
}

/** The JSON pointer of the mapping key that starts at `offset` (a duplicate key), if any. */
function pointerOfKeyAt(node: unknown, offset: number, pointer: string): string | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      const keyText = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      if (keyNode?.range?.[0] === offset) return childPointer(pointer, keyText);
      const found = pointerOfKeyAt(pair.value, offset, childPointer(pointer, keyText));
      if (found !== undefined) return found;
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const found = pointerOfKeyAt(item, offset, childPointer(pointer, index));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.value === '<<';
}

/** Walks the syntax tree alongside the JSON pointers of the values it produces. */
function recordPositions(
  document: Document,
  node: unknown,
  pointer: string,
  key: SourcePosition | undefined,
  sourceMap: SourceMap,
  at: (offset: number) => SourcePosition,
  depth = 0,
): void {
  if (depth > 64) return; // aliases may nest; positions deeper than this are not worth the risk of a cycle
  const range = (node as Node | null)?.range;
  // An empty value (`key:`) has an empty range just after the colon: the key is the better place.
  const value = range && range[0] !== range[1] ? at(range[0]) : (key ?? (range ? at(range[0]) : undefined));
  if (value) sourceMap.set(pointer, key ? { value, key } : { value });
  if (isAlias(node)) {
    const target = node.resolve(document);
    // The alias itself is where the value is written; its children are where the anchor wrote them.
    if (target && (isMap(target) || isSeq(target))) recordChildren(document, target, pointer, sourceMap, at, depth);
    return;
  }
  if (isMap(node) || isSeq(node)) recordChildren(document, node, pointer, sourceMap, at, depth);
}

function recordChildren(
  document: Document,
  node: Node,
  pointer: string,
  sourceMap: SourceMap,
  at: (offset: number) => SourcePosition,
  depth: number,
): void {
  if (isMap(node)) {
    // `<<: *anchor` merge keys first: keys written beside them override what they bring in.
    for (const pair of node.items) {
      if (!isPair(pair) || !isMergeKey(pair.key)) continue;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const target = isAlias(source) ? source.resolve(document) : source;
        if (isMap(target)) recordChildren(document, target, pointer, sourceMap, at, depth + 1);
      }
    }
    for (const pair of node.items) {
      if (!isPair(pair) || isMergeKey(pair.key)) continue;
      const keyNode = pair.key as Node | null;
      const keyText = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const keyPosition = keyNode?.range ? at(keyNode.range[0]) : undefined;
      recordPositions(document, pair.value, childPointer(pointer, keyText), keyPosition, sourceMap, at, depth + 1);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => recordPositions(document, item, childPointer(pointer, index), undefined, sourceMap, at, depth + 1));
  }
}
