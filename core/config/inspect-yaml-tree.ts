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

/** Thrown inside the pass to stop at the first limit crossed; caught before the pass returns. */
class LimitExceeded extends Error {
  constructor(readonly problem: YamlLimitProblem) {
    super(problem.message);
    this.name = 'LimitExceeded';
  }
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

/** The walk behind {@link inspectYamlTree}: what it has seen so far, and one method per kind of node. */
class YamlTreeWalk {
  readonly aliasTargets = new Map<Alias, Node>();
  readonly aliases: Alias[] = [];
  readonly duplicateKeys: { offset: number; pointer: string }[] = [];
  private readonly anchors = new Map<string, Node>();
  private readonly extents = new Map<Node, Extent>();
  /** Anchored nodes whose walk has not ended: an alias to one of them is inside its own anchor. */
  private readonly open = new Set<Node>();
  private readonly path: (string | number)[] = [];
  private anchorCount = 0;
  nodes: number;

  constructor(
    private readonly limits: PipelineLimits,
    private readonly nodesBefore: number,
  ) {
    this.nodes = nodesBefore;
  }

  private count(amount: number, offset: number, what: string): void {
    this.nodes += amount;
    if (this.nodes <= this.limits.maxNodes) return;
    const before = this.nodesBefore > 0 ? ` (${this.nodesBefore} of them in the files extending this one)` : '';
    throw new LimitExceeded({
      offset,
      message: `${what} takes the pipeline past ${this.limits.maxNodes} keys and values${before}, the most a pipeline may hold`,
      fix: `${keepDataOut}, and anchor a value that is used a few times, not thousands`,
    });
  }

  private tooDeep(offset: number, depth: number, what: string): LimitExceeded {
    return new LimitExceeded({ offset, ...nestingProblem(String(depth), this.limits, what) });
  }

  private visitAlias(alias: Alias, depth: number): Extent {
    const { limits } = this;
    this.aliases.push(alias);
    if (this.aliases.length > limits.maxAliases) {
      throw new LimitExceeded({
        offset: offsetOf(alias),
        message: `more than ${limits.maxAliases} aliases; a pipeline file may use at most ${limits.maxAliases}`,
        fix: 'write the value out where it is needed, or share it through `extends`',
      });
    }
    const target = this.anchors.get(alias.source);
    if (!target) return { nodes: 1, height: 0 }; // reported when the document is converted
    this.aliasTargets.set(alias, target);
    if (this.open.has(target)) {
      throw new LimitExceeded({
        offset: offsetOf(alias),
        message: `alias "*${alias.source}" is inside the value its anchor names, so it would contain itself`,
        fix: `move "*${alias.source}" out of the value anchored as "&${alias.source}"`,
      });
    }
    const extent = this.extents.get(target)!;
    this.count(extent.nodes, offsetOf(alias), `alias "*${alias.source}"`);
    if (depth + extent.height > limits.maxDepth) throw this.tooDeep(offsetOf(alias), depth + extent.height, `alias "*${alias.source}"`);
    return extent;
  }

  private openAnchor(node: Node, offset: number): void {
    if (++this.anchorCount > this.limits.maxAnchors) {
      throw new LimitExceeded({
        offset,
        message: `more than ${this.limits.maxAnchors} anchors; a pipeline file may define at most ${this.limits.maxAnchors}`,
        fix: 'anchor only the values that aliases use; share larger parts through `extends`',
      });
    }
    this.anchors.set(node.anchor!, node);
    this.open.add(node);
  }

  /** Walks one node and what is below it; returns its extent. */
  visit(node: unknown, depth: number): Extent {
    if (node === null || node === undefined) return { nodes: 0, height: 0 };
    if (isAlias(node)) return this.visitAlias(node, depth);
    const offset = offsetOf(node);
    this.count(1, offset, 'this value');
    if (depth > this.limits.maxDepth) throw this.tooDeep(offset, depth, 'this value');
    const anchored = (node as Node).anchor ? (node as Node) : null;
    if (anchored) this.openAnchor(anchored, offset);
    const below: Extent[] = isMap(node) ? this.visitMap(node.items, depth) : isSeq(node) ? this.visitSequence(node.items, depth) : [];
    // `? key` with no value stands for nothing.
    const counted = below.filter((extent) => extent.nodes > 0);
    const extent = {
      nodes: 1 + counted.reduce((total, each) => total + each.nodes, 0),
      height: counted.reduce((height, each) => Math.max(height, each.height + 1), 0),
    };
    if (anchored) {
      this.open.delete(anchored);
      this.extents.set(anchored, extent);
    }
    return extent;
  }

  private visitMap(items: readonly unknown[], depth: number): Extent[] {
    const below: Extent[] = [];
    const seen = new Set<unknown>();
    for (const pair of items) {
      if (!isPair(pair)) continue;
      const key = pair.key as Node | null;
      // The `yaml` package compares scalar keys with `===`: NaN is never a duplicate of itself.
      if (isScalar(key) && !(typeof key.value === 'number' && Number.isNaN(key.value))) {
        if (seen.has(key.value)) {
          const pointer = [...this.path, keyText(key)].reduce<string>((parent, segment) => childPointer(parent, segment), '');
          this.duplicateKeys.push({ offset: offsetOf(key), pointer });
        }
        seen.add(key.value);
      }
      below.push(this.visit(key, depth + 1));
      this.path.push(keyText(key));
      below.push(this.visit(pair.value, depth + 1));
      this.path.pop();
    }
    return below;
  }

  private visitSequence(items: readonly unknown[], depth: number): Extent[] {
    return items.map((item, index) => {
      this.path.push(index);
      const extent = this.visit(item, depth + 1);
      this.path.pop();
      return extent;
    });
  }
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
  const walk = new YamlTreeWalk(limits, nodesBefore);
  let exceeded: YamlLimitProblem | undefined;
  try {
    walk.visit(document.contents, 0);
  } catch (error) {
    if (!(error instanceof LimitExceeded)) throw error;
    exceeded = error.problem;
  }
  const { aliasTargets, aliases, duplicateKeys, nodes } = walk;
  return { aliasTargets, aliases, duplicateKeys, ...(exceeded ? { exceeded } : {}), nodes };
}
