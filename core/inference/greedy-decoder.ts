import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import type { StudentFolder } from './student-folder.js';

/** The onnxruntime module, passed in so that it is imported once and lazily by {@link loadStudent}. */
export type OnnxRuntime = typeof import('onnxruntime-node');

/** The two sessions of an exported student and what decoding needs of its config. */
export interface StudentSessions {
  readonly runtime: OnnxRuntime;
  readonly encoder: InferenceSession;
  readonly decoder: InferenceSession;
  readonly folder: StudentFolder;
}

/**
 * Greedy decoding of a batch: the encoder runs once, then the decoder runs once per new token on
 * the last token only, fed back its own `present.*` self-attention cache as `past_key_values.*`.
 * Rows that have produced `</s>` are fed padding until every row is done, as Hugging Face's
 * `generate` does, so the ids equal PyTorch's greedy ids.
 *
 * @param inputIds - one id list per text (already tokenised, with `</s>`); right-padded here.
 * @returns the generated ids per row, ending with `</s>` when the model produced it.
 */
export async function greedyDecode(
  sessions: StudentSessions,
  inputIds: readonly (readonly number[])[],
  maxNewTokens: number,
): Promise<number[][]> {
  const { runtime, encoder, decoder, folder } = sessions;
  const batch = inputIds.length;
  if (batch === 0) return [];
  const length = Math.max(1, ...inputIds.map((ids) => ids.length));
  const ids = new BigInt64Array(batch * length).fill(BigInt(folder.padTokenId));
  const mask = new BigInt64Array(batch * length);
  inputIds.forEach((row, rowIndex) => {
    row.forEach((id, column) => {
      ids[rowIndex * length + column] = BigInt(id);
      mask[rowIndex * length + column] = 1n;
    });
  });
  const attentionMask = new runtime.Tensor('int64', mask, [batch, length]);
  const encoded = await encoder.run({
    input_ids: new runtime.Tensor('int64', ids, [batch, length]),
    attention_mask: attentionMask,
  });
  const hiddenStates = encoded.last_hidden_state;
  if (!hiddenStates) throw new Error('encoder_model.onnx has no last_hidden_state output');

  let past: Record<string, OrtTensor> = {};
  for (let layer = 0; layer < folder.decoderLayers; layer++) {
    for (const part of ['key', 'value']) {
      // Zero-length past on the first step: the merged decoder concatenates, so no branch input is needed.
      past[`past_key_values.${layer}.decoder.${part}`] = new runtime.Tensor('float32', new Float32Array(0), [
        batch,
        folder.heads,
        0,
        folder.headSize,
      ]);
    }
  }

  const outputs: number[][] = Array.from({ length: batch }, () => []);
  const finished = new Array<boolean>(batch).fill(false);
  let current = new BigInt64Array(batch).fill(BigInt(folder.decoderStartTokenId));
  for (let step = 0; step < maxNewTokens && finished.includes(false); step++) {
    const result = await decoder.run({
      input_ids: new runtime.Tensor('int64', current, [batch, 1]),
      encoder_attention_mask: attentionMask,
      encoder_hidden_states: hiddenStates,
      ...past,
    });
    const logits = result.logits;
    if (!logits) throw new Error('decoder_model_merged.onnx has no logits output');
    const vocabulary = logits.dims[2]!;
    const values = logits.data as Float32Array;
    const next = new BigInt64Array(batch);
    for (let row = 0; row < batch; row++) {
      if (finished[row]) {
        next[row] = BigInt(folder.padTokenId);
        continue;
      }
      const offset = row * vocabulary;
      let best = 0;
      let bestValue = values[offset]!;
      for (let token = 1; token < vocabulary; token++) {
        const value = values[offset + token]!;
        if (value > bestValue) {
          bestValue = value;
          best = token;
        }
      }
      outputs[row]!.push(best);
      next[row] = BigInt(best);
      if (best === folder.eosTokenId) finished[row] = true;
    }
    const nextPast: Record<string, OrtTensor> = {};
    for (const [name, tensor] of Object.entries(result)) {
      if (name.startsWith('present.')) nextPast[name.replace('present.', 'past_key_values.')] = tensor;
    }
    past = nextPast;
    current = next;
  }
  return outputs;
}
