/** Bounds on what reading one pipeline (and the files it extends) may cost. */
export interface PipelineLimits {
  /** Most bytes in one YAML file, checked with `stat` before reading and again while reading. */
  readonly maxFileBytes: number;
  /** Most keys and values in one file's document, every alias counted as the values it stands for. */
  readonly maxNodes: number;
  /** Deepest nesting of one file's document (the top-level mapping's values are at depth 1). */
  readonly maxDepth: number;
  /**
   * Most anchors (`&name`) and most aliases (`*name`) written in one file. The `yaml` package finds
   * each alias's anchor by scanning every anchor and alias written before it: the time grows with
   * their product.
   */
  readonly maxAnchors: number;
  readonly maxAliases: number;
  /**
   * The `yaml` package's own `maxAliasCount`: for each anchor, the times it is used (the anchor
   * itself counts once) multiplied by the largest such count among the aliases nested inside it.
   */
  readonly maxAliasCount: number;
  /** Most files in one `extends` chain, the pipeline itself included. */
  readonly maxExtendsChain: number;
}

/**
 * The limits every pipeline is read under. A pipeline is a page of settings: the largest in this
 * repository (`pipelines/quickstart.yaml`) is 1.5 KB with about 60 values, nested 4 deep, with
 * a handful of aliases and an `extends` chain of 2. Data lives in dataset files named by path,
 * never inline. Each limit sits two or more orders of magnitude above that, and low enough that
 * a file at the limit still reads in well under a second: the dangers they close are a huge file,
 * an alias bomb (a small file whose aliases expand to millions of values, which every later walk
 * — positions, `${VAR}` filling, validation — would copy), and nesting deep enough to exhaust
 * the stack of the recursive walks.
 */
export const pipelineLimits: PipelineLimits = {
  maxFileBytes: 1024 * 1024,
  maxNodes: 100_000,
  maxDepth: 32,
  maxAnchors: 1_000,
  maxAliases: 1_000,
  maxAliasCount: 1_000,
  maxExtendsChain: 16,
};
