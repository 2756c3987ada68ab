import type { DatasetExample } from './dataset.js';
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
}
