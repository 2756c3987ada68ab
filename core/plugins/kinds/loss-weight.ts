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

/** Supplies α in loss = α·CE(label) + (1−α)·CE(rationale). */
export interface LossWeight {
  schedule(): AlphaSchedule;
}
