import { createHash } from 'node:crypto';

/**
 * A uniform number in [0, 1) that depends only on the seed, a purpose and a key (an example id).
 * Samplers use it instead of a stream of random numbers so that each example's fate does not
 * depend on which other examples are present or in which order: the examples kept at rate 0.33
 * are a subset of those kept at 0.5, and a data fraction of 25% is a subset of 50%.
 */
export function seededUniform(seed: number, purpose: string, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${purpose}\u0000${key}`).digest();
  // 48 bits fill a double's mantissa well enough and stay exact.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The items ordered by their {@link seededUniform} value: a seeded shuffle independent of input order. */
export function seededOrder<T>(items: readonly T[], seed: number, purpose: string, keyOf: (item: T) => string): T[] {
  return items
    .map((item) => ({ item, rank: seededUniform(seed, purpose, keyOf(item)) }))
    .sort((left, right) => left.rank - right.rank)
    .map((entry) => entry.item);
}
