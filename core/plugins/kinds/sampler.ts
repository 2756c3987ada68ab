/** Version of the {@link Sampler} contract. */
export const samplerContractVersion = 1;

/** One training example on its way from teacher records to the trainer. */
export interface SampleItem {
  readonly id: string;
  /** Student input without task prefix. */
  readonly input: string;
  readonly goldLabel: string | null;
  readonly teacherLabel: string | null;
  /** The label the student is trained toward (teacher label by default). */
  readonly label: string | null;
  /** The rationale target; null trains toward an empty rationale. */
  readonly rationale: string | null;
  /** The teacher's confidence in `teacherLabel`, from 0 to 1 (see `TeacherRecord.confidence`); null or absent when unknown. */
  readonly confidence?: number | null;
  /**
   * Self-consistency: the rationales of the teacher's answers that agree with `teacherLabel` (the
   * majority), longest first; absent when one answer was asked.
   */
  readonly agreeingRationales?: readonly string[];
}

/** What a sampler may know besides the items. */
export interface SamplerContext {
  /** The pipeline's seed; samplers derive their own random streams from it. */
  readonly seed: number;
}

/**
 * Transforms the training items: subsamples data, picks the label source, drops rationales.
 * Samplers run in the order the pipeline lists them and must be deterministic for a given seed.
 */
export interface Sampler {
  apply(items: readonly SampleItem[], context: SamplerContext): SampleItem[];
}
