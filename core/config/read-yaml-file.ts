import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, type Alias, type Node } from 'yaml';
import type { Problem } from '../errors/problem.js';
import { excessiveAlias } from './excessive-alias.js';
import { inspectYamlTree, nestingProblem, type YamlTreeInspection } from './inspect-yaml-tree.js';
import { parseYamlDocument } from './parse-yaml-document.js';
import { noUsage, pipelineLimits, type PipelineLimits, type PipelineUsage } from './pipeline-limits.js';
import { readLimitedFile } from './read-limited-file.js';
import { childPointer, displayPath, type SourceMap, type SourcePosition } from './source-map.js';

/** One YAML file, parsed, with the position of every value. */
export interface YamlFile {
  /** Absolute path. */
  readonly file: string;
  /** The plain JavaScript value (aliases resolved); undefined when the file could not be parsed. */
  readonly value: unknown;
  readonly sourceMap: SourceMap;
  /** Syntax errors, duplicate keys and limits crossed, each at its `file:line:col`. */
  readonly problems: readonly Problem[];
  /** What the pipeline has used of its limits with this file read (`before` included). */
  readonly usage: PipelineUsage;
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
  // YAML reserves `@` and backquote at the start of a plain value: a scoped package name
  // (`extends: @acme/recipes/nli`) must be quoted.
  if (code === 'BAD_SCALAR_START' && /reserved character [@`]/.test(message))
    return 'quote the value: a scoped package is written "@acme/recipes/nli"';
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

/** How large a file is, in the unit its limit is written in. */
function mebibytes(bytes: number): string {
  const value = bytes / (1024 * 1024);
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}

/** A file over the size limit, reported at its start. */
function tooLargeProblem(shown: string, bytes: number | undefined, limits: PipelineLimits, before: PipelineUsage): Problem {
  const size = bytes === undefined ? `more than the ${limits.maxBytes - before.bytes} bytes left` : `${mebibytes(bytes)} (${bytes} bytes)`;
  const extending = before.bytes > 0 ? ` with the files extending it (${before.bytes} bytes)` : '';
  return {
    file: shown,
    line: 1,
    column: 1,
    message: `${shown} holds ${size}; a pipeline${extending} may hold at most ${mebibytes(limits.maxBytes)} (${limits.maxBytes} bytes)`,
    fix: 'a pipeline is a page of settings: keep data in dataset files named by path, and check that this is the file you meant',
  };
}

/** An error of the `yaml` package's conversion to JavaScript, located: it names no position itself. */
function conversionProblem(
  error: Error,
  inspection: YamlTreeInspection,
  limits: PipelineLimits,
  at: (offset: number) => SourcePosition,
): Problem {
  const unresolved = /Unresolved alias.*: (\S+)$/.exec(error.message)?.[1];
  if (unresolved) {
    const written = inspection.aliases.find((node) => node.source === unresolved && !inspection.aliasTargets.has(node));
    return {
      ...at(written?.range?.[0] ?? 0),
      message: `unknown alias "*${unresolved}"`,
      fix: `define the anchor "&${unresolved}" on a value above this one`,
    };
  }
  if (/Excessive alias count/.test(error.message)) {
    const excessive = excessiveAlias(inspection.aliases, inspection.aliasTargets, limits.maxAliasCount);
    return {
      ...at(excessive?.range?.[0] ?? 0),
      message: `alias "*${excessive?.source ?? ''}" takes the uses of anchors past ${limits.maxAliasCount} (each use counts as often as the aliases nested in the anchored value)`,
      fix: 'write the value out where it is needed, or share it through `extends`',
    };
  }
  return { ...at(0), message: `YAML error: ${error.message}` };
}

/**
 * Reads one YAML file with a {@link LineCounter}, recording where each value and key starts so that
 * validation can report `file:line:col`. Reading stays within `limits` (size, nesting, values after
 * alias expansion, anchors and aliases), each crossing reported where it happens; `before` is what
 * the files that extend this one have used of the limits that hold for the whole pipeline. Nothing
 * is thrown for the user's mistakes: they come back as problems (a missing file, or a path that is
 * not a regular file, throws: the caller knows who named it and reports it there).
 */
export async function readYamlFile(
  file: string,
  limits: PipelineLimits = pipelineLimits,
  before: PipelineUsage = noUsage,
): Promise<YamlFile> {
  const shown = displayPath(file);
  const sourceMap: SourceMap = new Map();
  const failed = (problems: Problem[]): YamlFile => ({ file, value: undefined, sourceMap, problems, usage: before });
  const read = await readLimitedFile(file, limits.maxBytes - before.bytes);
  if ('tooLarge' in read) return failed([tooLargeProblem(shown, read.tooLarge.bytes, limits, before)]);
  const source = read.text;
  const lineCounter = new LineCounter();
  const at = (offset: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: shown, line, column: col };
  };
  // The parser's stack holds about one entry per level, plus the document and the scalar being read:
  // twice the depth limit stops a deep file within a few dozen tokens, never one the depth check passes.
  const parsed = parseYamlDocument(source, lineCounter, 2 * limits.maxDepth);
  if ('tooDeepAt' in parsed) return failed([{ ...at(parsed.tooDeepAt), ...nestingProblem(`more than ${2 * limits.maxDepth}`, limits) }]);
  const { document } = parsed;
  const inspection = inspectYamlTree(document, limits, before.nodes);
  const problems: Problem[] = document.errors.map((error) => {
    const start = syntaxOffset(error.message, source, error.pos[0]);
    const fix = syntaxFix(error.code, error.message);
    return { ...at(start), message: syntaxMessage(error.code, error.message, source, start), ...(fix ? { fix } : {}) };
  });
  for (const { offset, pointer } of inspection.duplicateKeys) {
    problems.push({
      ...at(offset),
      pointer,
      message: syntaxMessage('DUPLICATE_KEY', '', source, offset),
      fix: syntaxFix('DUPLICATE_KEY', '')!,
    });
  }
  if (inspection.exceeded)
    problems.push({ ...at(inspection.exceeded.offset), message: inspection.exceeded.message, fix: inspection.exceeded.fix });
  if (problems.length > 0) return failed(problems.sort((left, right) => left.line! - right.line! || left.column! - right.column!));

  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: limits.maxAliasCount });
  } catch (error) {
    // Unresolved aliases (`*missing`) and alias bombs surface only when converting.
    return failed([conversionProblem(error as Error, inspection, limits, at)]);
  }
  recordPositions(inspection.aliasTargets, document.contents, '', undefined, sourceMap, at);
  return { file, value, sourceMap, problems: [], usage: { bytes: before.bytes + read.bytes, nodes: inspection.nodes } };
}

function isMergeKey(key: unknown): boolean {
  return isScalar(key) && key.value === '<<';
}

/**
 * Walks the syntax tree alongside the JSON pointers of the values it produces, following aliases
 * into what they stand for: {@link inspectYamlTree} has checked first that this stays within the
 * limits (no alias inside its own anchor, a bounded number of values and depth).
 */
function recordPositions(
  aliasTargets: ReadonlyMap<Alias, Node>,
  node: unknown,
  pointer: string,
  key: SourcePosition | undefined,
  sourceMap: SourceMap,
  at: (offset: number) => SourcePosition,
): void {
  const range = (node as Node | null)?.range;
  // An empty value (`key:`) has an empty range just after the colon: the key is the better place.
  const value = range && range[0] !== range[1] ? at(range[0]) : (key ?? (range ? at(range[0]) : undefined));
  if (value) sourceMap.set(pointer, key ? { value, key } : { value });
  if (isAlias(node)) {
    const target = aliasTargets.get(node);
    // The alias itself is where the value is written; its children are where the anchor wrote them.
    if (target && (isMap(target) || isSeq(target))) recordChildren(aliasTargets, target, pointer, sourceMap, at);
    return;
  }
  if (isMap(node) || isSeq(node)) recordChildren(aliasTargets, node, pointer, sourceMap, at);
}

function recordChildren(
  aliasTargets: ReadonlyMap<Alias, Node>,
  node: Node,
  pointer: string,
  sourceMap: SourceMap,
  at: (offset: number) => SourcePosition,
): void {
  if (isMap(node)) {
    // `<<: *anchor` merge keys first: keys written beside them override what they bring in.
    for (const pair of node.items) {
      if (!isPair(pair) || !isMergeKey(pair.key)) continue;
      const sources = isSeq(pair.value) ? pair.value.items : [pair.value];
      for (const source of sources) {
        const target = isAlias(source) ? aliasTargets.get(source) : source;
        if (isMap(target)) recordChildren(aliasTargets, target, pointer, sourceMap, at);
      }
    }
    for (const pair of node.items) {
      if (!isPair(pair) || isMergeKey(pair.key)) continue;
      const keyNode = pair.key as Node | null;
      const keyText = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
      const keyPosition = keyNode?.range ? at(keyNode.range[0]) : undefined;
      recordPositions(aliasTargets, pair.value, childPointer(pointer, keyText), keyPosition, sourceMap, at);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => recordPositions(aliasTargets, item, childPointer(pointer, index), undefined, sourceMap, at));
  }
}
