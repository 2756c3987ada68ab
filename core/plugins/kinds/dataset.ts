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
   * How long a teacher's answer to one example has been measured to be, in completion tokens, and
   * where the number comes from; `distill estimate` uses it unless told another length. Optional
   * (added in contract version 1); without it estimate assumes a default length.
   */
  readonly completionTokensPerExample?: { readonly tokens: number; readonly source: string };
}
