import { isAlias, isMap, isPair, isScalar, isSeq, type Alias, type Document, type Node } from 'yaml';
import type { PipelineLimits } from './pipeline-limits.js';
import { childPointer } from './source-map.js';

/** A limit the document goes over, at the alias, key or value where it does. */
export interface YamlLimitProblem {
  /** Offset in the source of the alias, key or value that crossed the limit. */
  readonly offset: number;
  readonly message: string;
  readonly fix: string;
}

/** What one pass over a parsed YAML document found. */
export interface YamlTreeInspection {
  /**
   * The node each alias stands for, found as the `yaml` package finds it (the last node with that
   * anchor before the alias, in document order); an alias with no anchor before it is absent.
   */
  readonly aliasTargets: ReadonlyMap<Alias, Node>;
  /** Every alias written, in document order. */
  readonly aliases: readonly Alias[];
  /** Offset and JSON pointer of each key written a second time in the same mapping. */
  readonly duplicateKeys: readonly { readonly offset: number; readonly pointer: string }[];
  /** The first limit the document goes over; the pass stops there. */
  readonly exceeded?: YamlLimitProblem;
  /** Keys and values counted, aliases expanded, with those counted before this document. */
  readonly nodes: number;
}

/** How much an anchored node stands for: its keys and values, and how deep they nest below it. */
interface Extent {
  readonly nodes: number;
  readonly height: number;
}

/** Thrown inside the pass to stop at the first limit crossed. */
class LimitExceeded {
  constructor(readonly problem: YamlLimitProblem) {}
}

function offsetOf(node: unknown): number {
  return (node as Node | null)?.range?.[0] ?? 0;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

const keepDataOut = 'a pipeline is a page of settings: keep data in dataset files named by path';

/** The message and fix for a document nested deeper than `limits.maxDepth`, `depth` levels deep at `what`. */
export function nestingProblem(depth: string, limits: PipelineLimits, what = 'this value'): { message: string; fix: string } {
  return {
    message: `${what} nests ${depth} levels deep; a pipeline file may nest at most ${limits.maxDepth}`,
    fix: `flatten it: no pipeline setting nests more than a few levels, and ${keepDataOut}`,
  };
}

/**
 * Walks a parsed document once, in document order, without expanding aliases: each anchored node's
 * extent is remembered when its walk ends, so an alias costs one lookup. Along the way it finds
 * duplicate keys (in linear time: the `yaml` package's own `uniqueKeys` check compares every key
 * with every earlier one, minutes for a mapping of a million keys) and stops at the first of
 * `limits` crossed: the values the document expands to, counting every alias as what it stands
 * for, added to `nodesBefore` (those of the files extending this one, since the limit is on the
 * whole pipeline); the nesting depth after expansion; the number of anchors and of aliases; an alias inside
 * its own anchor.
 */
export function inspectYamlTree(document: Document, limits: PipelineLimits, nodesBefore: number): YamlTreeInspection {
  const aliasTargets = new Map<Alias, Node>();
  const aliases: Alias[] = [];
  const duplicateKeys: { offset: number; pointer: string }[] = [];
  const anchors = new Map<string, Node>();
  const extents = new Map<Node, Extent>();
  const open = new Set<Node>();
  const path: (string | number)[] = [];
  let nodes = nodesBefore;
  let anchorCount = 0;

  const count = (amount: number, offset: number, what: string): void => {
    nodes += amount;
    if (nodes > limits.maxNodes) {
      throw new LimitExceeded({
        offset,
        message: `${what} takes the pipeline past ${limits.maxNodes} keys and values${nodesBefore > 0 ? ` (${nodesBefore} of them in the files extending this one)` : ''}, the most a pipeline may hold`,
        fix: `${keepDataOut}, and anchor a value that is used a few times, not thousands`,
      });
    }
  };
  const tooDeep = (offset: number, depth: number, what: string): LimitExceeded =>
    new LimitExceeded({ offset, ...nestingProblem(String(depth), limits, what) });

  const visitAlias = (alias: Alias, depth: number): Extent => {
    aliases.push(alias);
    if (aliases.length > limits.maxAliases) {
      throw new LimitExceeded({
        offset: offsetOf(alias),
        message: `more than ${limits.maxAliases} aliases; a pipeline file may use at most ${limits.maxAliases}`,
        fix: 'write the value out where it is needed, or share it through `extends`',
      });
    }
    const target = anchors.get(alias.source);
    if (!target) return { nodes: 1, height: 0 }; // reported when the document is converted
    aliasTargets.set(alias, target);
    if (open.has(target)) {
      throw new LimitExceeded({
        offset: offsetOf(alias),
        message: `alias "*${alias.source}" is inside the value its anchor names, so it would contain itself`,
        fix: `move "*${alias.source}" out of the value anchored as "&${alias.source}"`,
      });
    }
    const extent = extents.get(target)!;
    count(extent.nodes, offsetOf(alias), `alias "*${alias.source}"`);
    if (depth + extent.height > limits.maxDepth) throw tooDeep(offsetOf(alias), depth + extent.height, `alias "*${alias.source}"`);
    return extent;
  };

  const visit = (node: unknown, depth: number): Extent => {
    if (node === null || node === undefined) return { nodes: 0, height: 0 };
    if (isAlias(node)) return visitAlias(node, depth);
    const offset = offsetOf(node);
    count(1, offset, 'this value');
    if (depth > limits.maxDepth) throw tooDeep(offset, depth, 'this value');
    const anchor = (node as Node).anchor;
    if (anchor) {
      if (++anchorCount > limits.maxAnchors) {
        throw new LimitExceeded({
          offset,
          message: `more than ${limits.maxAnchors} anchors; a pipeline file may define at most ${limits.maxAnchors}`,
          fix: 'anchor only the values that aliases use; share larger parts through `extends`',
        });
      }
      anchors.set(anchor, node as Node);
      open.add(node as Node);
    }
    let nodesBelow = 0;
    let height = 0;
    const add = (extent: Extent): void => {
      if (extent.nodes === 0) return; // `? key` with no value
      nodesBelow += extent.nodes;
      height = Math.max(height, extent.height + 1);
    };
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key as Node | null;
        // The `yaml` package compares scalar keys with `===`: NaN is never a duplicate of itself.
        if (isScalar(key) && !(typeof key.value === 'number' && Number.isNaN(key.value))) {
          if (seen.has(key.value))
            duplicateKeys.push({
              offset: offsetOf(key),
              pointer: [...path, keyText(key)].reduce<string>((parent, segment) => childPointer(parent, segment), ''),
            });
          seen.add(key.value);
        }
        add(visit(key, depth + 1));
        path.push(keyText(key));
        add(visit(pair.value, depth + 1));
        path.pop();
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => {
        path.push(index);
        add(visit(item, depth + 1));
        path.pop();
      });
    }
    const extent = { nodes: 1 + nodesBelow, height };
    if (anchor) {
      open.delete(node as Node);
      extents.set(node as Node, extent);
    }
    return extent;
  };

  try {
    visit(document.contents, 0);
  } catch (error) {
    if (!(error instanceof LimitExceeded)) throw error;
    return { aliasTargets, aliases, duplicateKeys, exceeded: error.problem, nodes };
  }
  return { aliasTargets, aliases, duplicateKeys, nodes };
}
