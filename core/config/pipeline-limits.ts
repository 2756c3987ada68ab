/**
 * Bounds on what reading one pipeline (and the files it extends) may cost. Bytes and values are
 * counted over the pipeline and the files it extends together: each file of a chain could
 * otherwise bring as many, and 16 files at a per-file limit took 16 s and 950 MB.
 */
export interface PipelineLimits {
  /** Most bytes in a pipeline's YAML files, checked with `stat` before each is read and again while reading. */
  readonly maxBytes: number;
  /** Most keys and values in a pipeline, every alias counted as the values it stands for. */
  readonly maxNodes: number;
  /** Deepest nesting of one file's document (the top-level mapping's values are at depth 1). */
  readonly maxDepth: number;
  /**
   * Most anchors (`&name`) and most aliases (`*name`) written in one file. The `yaml` package finds
   * each alias's anchor by scanning every anchor and alias written before it: the time grows with
   * their product.
   */
  readonly maxAnchors: number;
  /** Most aliases (`*name`) written in one file (see {@link PipelineLimits.maxAnchors}). */
  readonly maxAliases: number;
  /**
   * The `yaml` package's own `maxAliasCount`: for each anchor, the times it is used (the anchor
   * itself counts once) multiplied by the largest such count among the aliases nested inside it.
   */
  readonly maxAliasCount: number;
  /** Most files in one `extends` chain, the pipeline itself included. */
  readonly maxExtendsChain: number;
}

/** What the files of a pipeline read so far have used of the limits that hold for the whole pipeline. */
export interface PipelineUsage {
  /** Bytes of the files read. */
  readonly bytes: number;
  /** Keys and values counted, aliases expanded. */
  readonly nodes: number;
}

/** Nothing read yet. */
export const noUsage: PipelineUsage = { bytes: 0, nodes: 0 };

/**
 * The limits every pipeline is read under. A pipeline is a page of settings: the largest in this
 * repository (`pipelines/quickstart.yaml`) is 1.5 KB with under 200 keys and values, nested 4 deep,
 * with an `extends` chain of 2 and no anchors (where a pipeline shares values through anchors, it
 * needs a handful); data lives in dataset files named by path, never inline. The size, value, anchor and alias limits sit more than a hundred times above
 * that (a test keeps every shipped pipeline under a hundredth of them), the depth eight times.
 * They close a huge file, an alias bomb (a small file whose aliases expand to millions of values,
 * which every later walk — positions, `${VAR}` filling, validation — would copy), and nesting deep
 * enough to exhaust the stack of the recursive walks, while what stays within them is cheap: a
 * 1 MiB file of 100,000 keys is refused in about a second and 220 MB, and the costliest file
 * found within them (25,000 unknown keys, each reported with a did-you-mean) takes 3 s and 175 MB.
 */
export const pipelineLimits: PipelineLimits = {
  maxBytes: 1024 * 1024,
  maxNodes: 50_000,
  maxDepth: 32,
  maxAnchors: 1_000,
  maxAliases: 1_000,
  maxAliasCount: 1_000,
  maxExtendsChain: 16,
};
