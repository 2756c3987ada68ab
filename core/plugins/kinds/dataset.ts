/** Version of the {@link Dataset} contract; bumped on any breaking change. */
export const datasetContractVersion = 1;

/** One example as a dataset yields it. */
export interface DatasetExample {
  /** Stable within the dataset and split; keys teacher records, recorded completions and caches. */
  readonly id: string;
  /** Split the example came from (e.g. `train`, `valid`, `test`). */
  readonly split: string;
  /** Raw fields, available to prompt templates as `{field}` placeholders. */
  readonly fields: Readonly<Record<string, unknown>>;
  /** Gold label as text in the label space (e.g. `entailment`, a choice text, an equation), if known. */
  readonly goldLabel: string | null;
}

/**
 * An example with its gold label and a human-written explanation of why the label is right: what a
 * few-shot prompt shows the teacher before the question it asks.
 */
export interface WorkedExample {
  readonly example: DatasetExample;
  /** The gold label (the example's own, never null here). */
  readonly label: string;
  /** The explanation, cleaned: whole sentences of reasoning, without lead-ins such as "Explanation:". */
  readonly rationale: string;
}

/**
 * A source of examples. Splits are named by the dataset; the pipeline says which split plays the
 * role of training, validation and test data.
 */
export interface Dataset {
  /** Names of the splits this dataset can read. */
  readonly splits: readonly string[];
  /** Field names every example carries; prompt placeholders are checked against these before any call. */
  readonly fields: readonly string[];
  /** The closed label set where there is one (NLI), else null (free text, equations). */
  readonly labels: readonly string[] | null;
  /** Streams the examples of one split in a stable order. */
  read(split: string): AsyncIterable<DatasetExample>;
  /** The student's input text for an example, before the `predict: `/`explain: ` prefix. */
  studentInput(example: DatasetExample): string;
  /** Files read, for the run lockfile's data hashes. */
  sourceFiles(split: string): readonly string[];
  /**
   * Examples that must stay together when validation is held out of the training split, such as the
   * three hypotheses NLI data pairs with one premise: a validation example whose premise the student
   * trained on is scored on memory, not inference. Optional (added in contract version 1); without it
   * every example is its own group.
   */
  groupOf?(example: DatasetExample): string;
  /**
   * The worked examples of a split, in a stable order: only those whose explanation is good enough to
   * show a teacher. Prompts take their few-shot exemplars from here rather than from files, so the
   * dataset alone knows where its explanations are and which are usable. Optional (added in contract
   * version 1); a dataset without explanations leaves it out.
   */
  workedExamples?(split: string): AsyncIterable<WorkedExample>;
  /**
   * Mean completion tokens of a teacher's answer to a zero-shot prompt for this dataset where it was
   * measured, with where the figure comes from, for `distill estimate` before any call. Optional.
   */
  readonly expectedCompletionTokens?: { readonly tokens: number; readonly source: string };
}

/**
 * A dataset that a dataset plugin serves under a short name, so that commands run without a pipeline
 * (`distill eval --dataset <name>`, the comparison of `distill export`) can name it.
 */
export interface NamedDataset {
  /** The plugin's options for this dataset, given the data folder the user named (`--root`), if any. */
  options(root: string | undefined): Record<string, unknown>;
  /** Metric of the evaluator that scores its gold labels (the pipeline's evaluators decide inside a run). */
  readonly metric: string;
}

/** What a dataset plugin's descriptor may declare besides the descriptor fields: its named datasets. */
export interface NamedDatasetCatalogue {
  /** Short name → the dataset it stands for. */
  readonly namedDatasets: Readonly<Record<string, NamedDataset>>;
}

/** Whether a descriptor (of any kind) declares named datasets. */
export function hasNamedDatasets<Descriptor extends object>(descriptor: Descriptor): descriptor is Descriptor & NamedDatasetCatalogue {
  return 'namedDatasets' in descriptor && typeof descriptor.namedDatasets === 'object' && descriptor.namedDatasets !== null;
}
