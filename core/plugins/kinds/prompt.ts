import type { Dataset, DatasetExample } from './dataset.js';
import type { TeacherMessage } from './teacher.js';

/** Version of the {@link Prompt} contract. */
export const promptContractVersion = 1;

/** Turns an example into the messages sent to the teacher. */
export interface Prompt {
  /** `{field}` placeholders the template uses; each must be a field of the dataset. */
  readonly placeholders: readonly string[];
  /** Hash of the template text and settings, for the run lockfile and stage signatures. */
  readonly templateHash: string;
  /** Number of worked examples in the prompt (0 for zero-shot). */
  readonly shots: number;
  render(example: DatasetExample): readonly TeacherMessage[];
  /**
   * The prompt to use with the pipeline's dataset. A prompt that shows worked examples takes them
   * from the dataset here ({@link Dataset.workedExamples}), never from files, and returns a prompt
   * whose text and `templateHash` hold them. Core calls it once, after creating both plugins and
   * before reading the hash or rendering (see {@link promptForDataset}). Optional (added in contract
   * version 1): a prompt without exemplars is complete as created.
   */
  forDataset?(dataset: Dataset): Promise<Prompt>;
}

/** The prompt to render a dataset's examples with: {@link Prompt.forDataset} where the prompt has it. */
export async function promptForDataset(prompt: Prompt, dataset: Dataset): Promise<Prompt> {
  return prompt.forDataset ? prompt.forDataset(dataset) : prompt;
}
