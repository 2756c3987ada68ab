import type { SampleItem } from './sampler.js';

/** Version of the {@link LossWeight} contract. */
export const lossWeightContractVersion = 1;

/**
 * α over training, linear from `start` to `end` (constant when they are equal). Plain data, because
 * the trainer worker applies it step by step in another process.
 */
export interface AlphaSchedule {
  readonly start: number;
  readonly end: number;
}

/**
 * Supplies α in loss = α·CE(label) + (1−α)·CE(rationale), and optionally a weight per example that
 * multiplies that example's share of both terms.
 */
export interface LossWeight {
  schedule(): AlphaSchedule;
  /**
   * The weight of one training example's loss (0 leaves it out of the gradient, 1 is the usual
   * share), e.g. the teacher's confidence. Absent: every example weighs 1.
   */
  exampleWeight?(item: SampleItem): number;
}
