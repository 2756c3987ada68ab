/** The label a student scores highest among a closed set, and its probability. */
export interface ScoredLabel {
  readonly label: string;
  /** Softmax over the labels' total log-probabilities: how sure the student is among these labels. */
  readonly confidence: number;
  /** Every label's probability among the labels (the same softmax), keyed by label; they sum to 1. */
  readonly probabilities: Readonly<Record<string, number>>;
}

/** The natural log of the softmax of one row of logits at `token` (computed in double precision). */
export function logProbability(logits: Float32Array, offset: number, vocabulary: number, token: number): number {
  let largest = -Infinity;
  for (let index = 0; index < vocabulary; index++) largest = Math.max(largest, logits[offset + index]!);
  let sum = 0;
  for (let index = 0; index < vocabulary; index++) sum += Math.exp(logits[offset + index]! - largest);
  return logits[offset + token]! - largest - Math.log(sum);
}

/**
 * The label of the highest total log-probability (the first on a tie), its softmax probability
 * among them, and every label's. A label listed twice keeps one entry (the same probability).
 */
export function bestLabel(labels: readonly string[], totals: readonly number[]): ScoredLabel {
  let best = 0;
  for (let index = 1; index < totals.length; index++) if (totals[index]! > totals[best]!) best = index;
  let sum = 0;
  for (const total of totals) sum += Math.exp(total - totals[best]!);
  // A plain object with no prototype: a label such as `__proto__` or `constructor` stays an ordinary key.
  const probabilities: Record<string, number> = Object.create(null) as Record<string, number>;
  labels.forEach((label, index) => {
    probabilities[label] = Math.exp(totals[index]! - totals[best]!) / sum;
  });
  return { label: labels[best]!, confidence: 1 / sum, probabilities };
}

/** Every row's index repeated `times` times in a row: the rows of a batch tiled for one candidate each. */
export function tileRows(data: Float32Array, rows: number, times: number): Float32Array {
  const rowSize = data.length / rows;
  const tiled = new Float32Array(data.length * times);
  for (let row = 0; row < rows; row++) {
    const source = data.subarray(row * rowSize, (row + 1) * rowSize);
    for (let copy = 0; copy < times; copy++) tiled.set(source, (row * times + copy) * rowSize);
  }
  return tiled;
}

/** The index of the largest of `vocabulary` logits from `offset` (the first on a tie, as torch.argmax). */
export function argmax(values: Float32Array, offset: number, vocabulary: number): number {
  let best = 0;
  let bestValue = values[offset]!;
  for (let token = 1; token < vocabulary; token++) {
    const value = values[offset + token]!;
    if (value > bestValue) {
      bestValue = value;
      best = token;
    }
  }
  return best;
}

/** The mean of a generated answer's token log-probabilities; -Infinity for an empty answer (nothing generated is no evidence). */
export function meanOf(values: readonly number[] | undefined): number {
  if (!values || values.length === 0) return Number.NEGATIVE_INFINITY;
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/**
 * Runs a greedy decoder over inputs `batchSize` at a time; with `means`, appends each input's
 * {@link meanOf} its generated tokens' log-probabilities, in input order.
 */
export async function decodeInBatches<Input>(
  inputs: readonly Input[],
  batchSize: number,
  decode: (batch: readonly Input[], tokenLogProbabilities?: number[][]) => Promise<number[][]>,
  means?: number[],
): Promise<number[][]> {
  const results: number[][] = [];
  for (let start = 0; start < inputs.length; start += batchSize) {
    const batch = inputs.slice(start, start + batchSize);
    const scores: number[][] | undefined = means ? [] : undefined;
    results.push(...(await decode(batch, scores)));
    if (means && scores) for (let row = 0; row < batch.length; row++) means.push(meanOf(scores[row]));
  }
  return results;
}
