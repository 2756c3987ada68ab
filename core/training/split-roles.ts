import { seededUniform } from './seeded-random.js';

/** Training records split into the examples that train and those held out for validation. */
export interface HeldOut<T> {
  readonly train: T[];
  readonly validation: T[];
}

/**
 * Holds out `fraction` of the training records for model selection when the dataset has no
 * validation split (CQA, SVAMP: method.md suggests 10%, seed fixed). The choice depends on the
 * seed and each id only, so it is stable when records are added or reordered.
 */
export function holdOutValidation<T>(records: readonly T[], fraction: number, seed: number, idOf: (record: T) => string): HeldOut<T> {
  const ranked = records
    .map((record) => ({ record, rank: seededUniform(seed, 'validation-holdout', idOf(record)) }))
    .sort((left, right) => left.rank - right.rank);
  const count = Math.min(records.length - 1, Math.max(1, Math.round(fraction * records.length)));
  const held = new Set(ranked.slice(0, count).map((entry) => entry.record));
  return { train: records.filter((record) => !held.has(record)), validation: records.filter((record) => held.has(record)) };
}
