import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { UserError } from '../errors/user-error.js';
import { CacheBuffers } from './cache-buffers.js';
import { argmax, logProbability } from './label-scores.js';
import type { T5StudentFolder } from './student-folder.js';

/** The onnxruntime module, passed in so that it is imported once and lazily by {@link loadStudent}. */
export type OnnxRuntime = typeof import('onnxruntime-node');

/**
 * How the decoder graph's caches are fed, read once from the inputs and outputs it declares, so that
 * folders exported before the cross-attention cache existed still decode.
 */
export interface DecoderCaches {
  /** `past_key_values.{i}.decoder.*`: fed the previous step's `present.*`. */
  readonly selfAttention: readonly string[];
  /**
   * `past_key_values.{i}.encoder.*`: empty on the first step, which projects the encoder states and
   * returns them as `present.{i}.encoder.*`; that first present is fed to every later step, so the
   * projections run once per text. Empty for folders without the cross-attention cache.
   */
  readonly crossAttention: readonly string[];
  /** Outputs fetched on the first step: logits and every present. */
  readonly firstStepOutputs: readonly string[];
  /** Outputs fetched afterwards: logits and the self-attention presents (the cross ones cannot change). */
  readonly laterStepOutputs: readonly string[];
}

/** The two sessions of an exported student and what decoding needs of its config. */
export interface StudentSessions {
  readonly runtime: OnnxRuntime;
  readonly encoder: InferenceSession;
  readonly decoder: InferenceSession;
  readonly folder: T5StudentFolder;
  readonly caches: DecoderCaches;
  /** Decode into preallocated cache and logits buffers ({@link CacheBuffers}, `loadStudent`'s `reuseBuffers`). */
  readonly reuseBuffers?: boolean;
}

/** The `present.*` output that answers a `past_key_values.*` input. */
export function presentName(pastName: string): string {
  return `present.${pastName.slice('past_key_values.'.length)}`;
}

/**
 * Reads the cache inputs a decoder graph declares. A graph without `logits`, or with a cache input
 * whose `present.*` output is missing, is not one the exporter wrote: a {@link UserError} names them.
 */
export function decoderCaches(decoder: InferenceSession): DecoderCaches {
  const past = decoder.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const missing = ['logits', ...past.map(presentName)].filter((name) => !decoder.outputNames.includes(name));
  if (missing.length > 0) {
    throw new UserError({
      message: `decoder_model_merged.onnx lacks the outputs ${missing.join(', ')}`,
      fix: 'export the student again with `distill export`',
    });
  }
  const crossAttention = past.filter((name) => name.includes('.encoder.'));
  const selfAttention = past.filter((name) => !name.includes('.encoder.'));
  return {
    selfAttention,
    crossAttention,
    firstStepOutputs: ['logits', ...past.map(presentName)],
    laterStepOutputs: ['logits', ...selfAttention.map(presentName)],
  };
}

/** The encoder's output for a batch of inputs, right-padded, with the mask the decoder attends with. */
export interface EncodedBatch {
  readonly attentionMask: OrtTensor;
  readonly hiddenStates: OrtTensor;
}

/** Runs the encoder once over the right-padded inputs. */
export async function encodeBatch(sessions: StudentSessions, inputIds: readonly (readonly number[])[]): Promise<EncodedBatch> {
  const { runtime, encoder, folder } = sessions;
  const batch = inputIds.length;
  let length = 1;
  for (const row of inputIds) length = Math.max(length, row.length);
  const ids = new BigInt64Array(batch * length);
  const mask = new BigInt64Array(batch * length);
  const pad = BigInt(folder.padTokenId);
  for (let rowIndex = 0; rowIndex < batch; rowIndex++) {
    const row = inputIds[rowIndex]!;
    const offset = rowIndex * length;
    for (let column = 0; column < length; column++) {
      const inside = column < row.length;
      ids[offset + column] = inside ? BigInt(row[column]!) : pad;
      mask[offset + column] = inside ? 1n : 0n;
    }
  }
  const attentionMask = new runtime.Tensor('int64', mask, [batch, length]);
  const encoded = await encoder.run({
    input_ids: new runtime.Tensor('int64', ids, [batch, length]),
    attention_mask: attentionMask,
  });
  const hiddenStates = encoded.last_hidden_state;
  if (!hiddenStates) throw new Error('encoder_model.onnx has no last_hidden_state output');
  return { attentionMask, hiddenStates };
}

/**
 * Greedy decoding of a batch: the encoder runs once, then the decoder runs once per new token on
 * the last token only, fed back its own `present.*` self-attention cache as `past_key_values.*`
 * and, from the second step on, the cross-attention keys and values it computed on the first.
 * Rows that have produced `</s>` are fed padding until every row is done, as Hugging Face's
 * `generate` does, so the ids equal PyTorch's greedy ids.
 *
 * @param inputIds - one id list per text (already tokenised, with `</s>`); right-padded here.
 * @param tokenLogProbabilities - when given, filled row by row with each generated token's
 *   log-probability (the softmax of its step's logits), beside the ids: what an open answer's
 *   confidence is computed from. Left out, nothing beyond the argmax is computed.
 * @returns the generated ids per row, ending with `</s>` when the model produced it.
 */
export async function greedyDecode(
  sessions: StudentSessions,
  inputIds: readonly (readonly number[])[],
  maxNewTokens: number,
  tokenLogProbabilities?: number[][],
): Promise<number[][]> {
  const { runtime, decoder, folder, caches } = sessions;
  const batch = inputIds.length;
  if (batch === 0) return [];
  const { attentionMask, hiddenStates } = await encodeBatch(sessions, inputIds);
  const pad = BigInt(folder.padTokenId);

  const feeds: Record<string, OrtTensor> = { encoder_attention_mask: attentionMask, encoder_hidden_states: hiddenStates };
  // Zero-length caches on the first step: the decoder concatenates, so no branch input is needed.
  const empty = new runtime.Tensor('float32', new Float32Array(0), [batch, folder.heads, 0, folder.headSize]);
  for (const name of caches.selfAttention) feeds[name] = empty;
  for (const name of caches.crossAttention) feeds[name] = empty;

  const outputs: number[][] = Array.from({ length: batch }, () => []);
  const finished = new Uint8Array(batch);
  let unfinished = batch;
  let current = new BigInt64Array(batch).fill(BigInt(folder.decoderStartTokenId));
  const buffers = sessions.reuseBuffers
    ? new CacheBuffers(
        runtime,
        caches.selfAttention.map(presentName),
        { batch, heads: folder.heads, headSize: folder.headSize },
        maxNewTokens,
      )
    : null;
  for (let step = 0; step < maxNewTokens && unfinished > 0; step++) {
    feeds.input_ids = new runtime.Tensor('int64', current, [batch, 1]);
    const fetches = buffers ? { ...buffers.fetches(step + 1), ...(step === 0 ? nullFetches(caches.crossAttention) : {}) } : null;
    const result = await decoder.run(feeds, fetches ?? (step === 0 ? caches.firstStepOutputs : caches.laterStepOutputs));
    const vocabulary = result.logits!.dims[2]!;
    const values = buffers ? buffers.stepLogits(result) : (result.logits!.data as Float32Array);
    const next = new BigInt64Array(batch);
    for (let row = 0; row < batch; row++) {
      if (finished[row]) {
        next[row] = pad;
        continue;
      }
      const best = argmax(values, row * vocabulary, vocabulary);
      outputs[row]!.push(best);
      if (tokenLogProbabilities) (tokenLogProbabilities[row] ??= []).push(logProbability(values, row * vocabulary, vocabulary, best));
      next[row] = BigInt(best);
      if (best === folder.eosTokenId) {
        finished[row] = 1;
        unfinished--;
      }
    }
    // With buffers, the fetched views hold the presents (onnxruntime-node returns copies of them).
    for (const name of caches.selfAttention) feeds[name] = (fetches?.[presentName(name)] ?? result[presentName(name)])!;
    if (step === 0) for (const name of caches.crossAttention) feeds[name] = result[presentName(name)]!;
    current = next;
  }
  return outputs;
}

/** Fetches of outputs onnxruntime allocates itself: the presents of the cross-attention, computed once. */
function nullFetches(pastNames: readonly string[]): Record<string, null> {
  return Object.fromEntries(pastNames.map((name) => [presentName(name), null]));
}
