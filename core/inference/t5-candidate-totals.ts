import type { Tensor as OrtTensor } from 'onnxruntime-node';
import { encodeBatch, type StudentSessions } from './greedy-decoder.js';
import { logProbability, tileRows } from './label-scores.js';

/**
 * The total log-probability of each candidate target (its ids, ending with `</s>`) for each T5 input,
 * `[input][candidate]`: the encoder runs once, its states are tiled for every (input, candidate) pair,
 * and the decoder runs once over all pairs, the decoder start token then each candidate, with
 * zero-length caches (the merged decoder takes several tokens in one call, causally masked).
 */
export async function t5CandidateTotals(
  sessions: StudentSessions,
  inputIds: readonly (readonly number[])[],
  candidates: readonly (readonly number[])[],
): Promise<number[][]> {
  const { runtime, decoder, folder, caches } = sessions;
  const batch = inputIds.length;
  if (batch === 0) return [];
  const { attentionMask, hiddenStates } = await encodeBatch(sessions, inputIds);
  const count = candidates.length;
  const rows = batch * count;
  let steps = 1;
  for (const candidate of candidates) steps = Math.max(steps, candidate.length);
  // Each candidate after the start token, right-padded: causal attention keeps padding out of real tokens.
  const ids = new BigInt64Array(rows * steps).fill(BigInt(folder.padTokenId));
  for (let pair = 0; pair < rows; pair++) {
    const candidate = candidates[pair % count]!;
    ids[pair * steps] = BigInt(folder.decoderStartTokenId);
    for (let step = 1; step < steps && step < candidate.length; step++) ids[pair * steps + step] = BigInt(candidate[step - 1]!);
  }
  const length = attentionMask.dims[1]!;
  const mask = new BigInt64Array(rows * length);
  const encoderMask = attentionMask.data as BigInt64Array;
  for (let pair = 0; pair < rows; pair++) {
    const row = Math.floor(pair / count);
    mask.set(encoderMask.subarray(row * length, (row + 1) * length), pair * length);
  }
  const feeds: Record<string, OrtTensor> = {
    input_ids: new runtime.Tensor('int64', ids, [rows, steps]),
    encoder_attention_mask: new runtime.Tensor('int64', mask, [rows, length]),
    encoder_hidden_states: new runtime.Tensor('float32', tileRows(hiddenStates.data as Float32Array, batch, count), [
      rows,
      ...hiddenStates.dims.slice(1),
    ]),
  };
  const empty = new runtime.Tensor('float32', new Float32Array(0), [rows, folder.heads, 0, folder.headSize]);
  for (const name of [...caches.selfAttention, ...caches.crossAttention]) feeds[name] = empty;
  const logits = (await decoder.run(feeds, ['logits'])).logits!;
  const vocabulary = logits.dims[2]!;
  const values = logits.data as Float32Array;
  return Array.from({ length: batch }, (_, row) =>
    candidates.map((candidate, index) => {
      const pair = row * count + index;
      let total = 0;
      for (let step = 0; step < candidate.length; step++) {
        total += logProbability(values, (pair * steps + step) * vocabulary, vocabulary, candidate[step]!);
      }
      return total;
    }),
  );
}
