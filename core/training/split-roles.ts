import { seededUniform } from './seeded-random.js';

/** Training records split into the examples that train and those held out for validation. */
export interface HeldOut<T> {
  readonly train: T[];
  readonly validation: T[];
}

/**
 * Holds out `fraction` of the training records for model selection when the dataset has no
 * validation split (method.md suggests 10%, seed fixed). Whole groups are held out
 * (`groupOf`: an NLI premise with its hypotheses; the record's id where there are no groups), so no
 * validation example shares a group with a training one. The choice depends on the seed and the
 * group keys only, so it is stable when records are added or reordered.
 */
export function holdOutValidation<T>(records: readonly T[], fraction: number, seed: number, groupOf: (record: T) => string): HeldOut<T> {
  const groups = new Map<string, T[]>();
  for (const record of records) {
    const key = groupOf(record);
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  const ranked = [...groups.entries()]
    .map(([key, members]) => ({ members, rank: seededUniform(seed, 'validation-holdout', key) }))
    .sort((left, right) => left.rank - right.rank);
  const wanted = Math.max(1, Math.round(fraction * records.length));
  const held = new Set<T>();
  // Whole groups until enough are held out; the last group always stays for training.
  for (const { members } of ranked.slice(0, -1)) {
    if (held.size >= wanted) break;
    for (const member of members) held.add(member);
  }
  return { train: records.filter((record) => !held.has(record)), validation: records.filter((record) => held.has(record)) };
}
