import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { UserError } from '../errors/user-error.js';
import { CacheBuffers } from './cache-buffers.js';
import type { OnnxRuntime } from './greedy-decoder.js';
import { argmax, logProbability, tileRows } from './label-scores.js';
import type { CausalLmStudentFolder } from './student-folder.js';

/** The session of an exported causal-LM student and what decoding needs of its folder. */
export interface CausalLmSessions {
  readonly runtime: OnnxRuntime;
  readonly session: InferenceSession;
  readonly folder: CausalLmStudentFolder;
  /** `past_key_values.{i}.key|value`, each answered by the `present.*` of the same name. */
  readonly pastNames: readonly string[];
  /**
   * Whether the graph takes `num_logits_to_keep` (docs/decoder-students.md): graphs exported before it
   * existed compute every position's logits, and are still read.
   */
  readonly keepsLogits: boolean;
  /** Decode into preallocated cache and logits buffers ({@link CacheBuffers}, `loadStudent`'s `reuseBuffers`). */
  readonly reuseBuffers?: boolean;
}

/** The graph input that limits the logits to the last positions of a call. */
const keepInput = 'num_logits_to_keep';

/** Whether a causal-LM graph takes `num_logits_to_keep`. */
export function keepsLogits(session: InferenceSession): boolean {
  return session.inputNames.includes(keepInput);
}

/**
 * The `num_logits_to_keep` feed asking for the logits of the last `count` positions only (none for a
 * graph without the input). The output layer is a large share of a small model's weights, so the
 * prompt pass of generation, which needs one position, skips it for every other prompt token.
 */
function keepFeed(sessions: CausalLmSessions, count: number): Record<string, OrtTensor> {
  if (!sessions.keepsLogits) return {};
  return { [keepInput]: new sessions.runtime.Tensor('int64', BigInt64Array.of(BigInt(count)), []) };
}

/** The `present.*` output that answers a `past_key_values.*` input. */
function presentName(pastName: string): string {
  return `present.${pastName.slice('past_key_values.'.length)}`;
}

/**
 * The cache inputs of a causal-LM graph. A graph without the inputs and outputs of
 * docs/decoder-students.md is not one the exporter wrote: a {@link UserError} names what it lacks.
 */
export function causalLmCaches(session: InferenceSession, folder: CausalLmStudentFolder): string[] {
  const pastNames = session.inputNames.filter((name) => name.startsWith('past_key_values.'));
  const missing = [
    ...['input_ids', 'attention_mask', 'position_ids'].filter((name) => !session.inputNames.includes(name)),
    ...['logits', ...pastNames.map(presentName)].filter((name) => !session.outputNames.includes(name)),
  ];
  if (pastNames.length !== 2 * folder.layers) missing.push(`past_key_values.{0..${folder.layers - 1}}.key|value`);
  if (missing.length > 0) {
    throw new UserError({
      message: `${folder.modelPath} lacks ${missing.join(', ')}`,
      fix: 'export the student again with `distill export`',
    });
  }
  return pastNames;
}

/** What the prompt pass leaves for the steps after it. */
interface PromptPass {
  /** The logits of each row's last prompt token, `[batch, vocabulary]`. */
  readonly lastLogits: Float32Array;
  readonly vocabulary: number;
  /** The caches of the prompt: `past_key_values.*` name to its `present.*` tensor. */
  readonly past: Record<string, OrtTensor>;
  /** The attention mask of the prompt, `[batch, length]`, left-padded. */
  readonly mask: BigInt64Array;
  readonly length: number;
  /** The position of each row's next token. */
  readonly nextPositions: number[];
}

/**
 * One pass over left-padded prompts with zero-length caches: `position_ids = cumsum(mask) − 1`
 * (clamped at 0), so a padded row computes what it computes alone.
 */
async function runPrompts(sessions: CausalLmSessions, prompts: readonly (readonly number[])[]): Promise<PromptPass> {
  const { runtime, session, folder, pastNames } = sessions;
  const batch = prompts.length;
  let length = 1;
  for (const prompt of prompts) length = Math.max(length, prompt.length);
  const ids = new BigInt64Array(batch * length).fill(BigInt(folder.descriptor.padTokenId));
  const mask = new BigInt64Array(batch * length);
  const positions = new BigInt64Array(batch * length);
  const nextPositions: number[] = [];
  for (let row = 0; row < batch; row++) {
    const prompt = prompts[row]!;
    const start = row * length + length - prompt.length;
    for (let index = 0; index < prompt.length; index++) {
      ids[start + index] = BigInt(prompt[index]!);
      mask[start + index] = 1n;
      positions[start + index] = BigInt(index);
    }
    nextPositions.push(prompt.length);
  }
  const feeds: Record<string, OrtTensor> = {
    input_ids: new runtime.Tensor('int64', ids, [batch, length]),
    attention_mask: new runtime.Tensor('int64', mask, [batch, length]),
    position_ids: new runtime.Tensor('int64', positions, [batch, length]),
    ...keepFeed(sessions, 1),
  };
  const empty = new runtime.Tensor('float32', new Float32Array(0), [batch, folder.keyValueHeads, 0, folder.headSize]);
  for (const name of pastNames) feeds[name] = empty;
  const result = await session.run(feeds);
  const logits = result.logits!;
  // One column where the graph kept the last position only, every prompt position where it cannot.
  const columns = logits.dims[1]!;
  const vocabulary = logits.dims[2]!;
  const values = logits.data as Float32Array;
  // Left padding puts every row's last prompt token in the last column.
  const lastLogits = new Float32Array(batch * vocabulary);
  for (let row = 0; row < batch; row++) {
    const offset = (row * columns + columns - 1) * vocabulary;
    lastLogits.set(values.subarray(offset, offset + vocabulary), row * vocabulary);
  }
  const past: Record<string, OrtTensor> = {};
  for (const name of pastNames) past[name] = result[presentName(name)]!;
  return { lastLogits, vocabulary, past, mask, length, nextPositions };
}

/**
 * Greedy decoding of a batch of prompts: one pass over the left-padded prompts, then one call per new
 * token fed the previous call's `present.*` as `past_key_values.*`. A row stops at the end token, or at
 * `stopToken` once it has produced a token before it (label-then-rationale's separator after a label);
 * a stopped row is fed padding, its mask and position growing like the others', until every row is
 * done, as Hugging Face's `generate` does, so the ids equal PyTorch's greedy ids.
 *
 * @param tokenLogProbabilities - when given, filled row by row with each generated token's
 *   log-probability (the softmax of its step's logits), beside the ids.
 * @returns the generated ids per row, ending with the token that stopped it when one did.
 */
export async function causalGreedyDecode(
  sessions: CausalLmSessions,
  prompts: readonly (readonly number[])[],
  maxNewTokens: number,
  stopToken?: number,
  tokenLogProbabilities?: number[][],
): Promise<number[][]> {
  const { runtime, session, folder, pastNames } = sessions;
  const batch = prompts.length;
  if (batch === 0 || maxNewTokens < 1) return prompts.map(() => []);
  const { eosTokenId, padTokenId } = folder.descriptor;
  const pass = await runPrompts(sessions, prompts);
  const outputs: number[][] = Array.from({ length: batch }, () => []);
  const finished = new Uint8Array(batch);
  let unfinished = batch;
  let logits = pass.lastLogits;
  let past = pass.past;
  let mask = pass.mask;
  let total = pass.length;
  const positions = [...pass.nextPositions];
  const buffers = sessions.reuseBuffers
    ? new CacheBuffers(
        runtime,
        pastNames.map(presentName),
        { batch, heads: folder.keyValueHeads, headSize: folder.headSize },
        pass.length + maxNewTokens,
      )
    : null;
  for (let step = 0; ; step++) {
    const next = new BigInt64Array(batch);
    for (let row = 0; row < batch; row++) {
      if (finished[row]) {
        next[row] = BigInt(padTokenId);
        continue;
      }
      const best = argmax(logits, row * pass.vocabulary, pass.vocabulary);
      const stops = best === eosTokenId || (best === stopToken && outputs[row]!.length > 0);
      outputs[row]!.push(best);
      if (tokenLogProbabilities) {
        (tokenLogProbabilities[row] ??= []).push(logProbability(logits, row * pass.vocabulary, pass.vocabulary, best));
      }
      next[row] = BigInt(best);
      if (stops) {
        finished[row] = 1;
        unfinished--;
      }
    }
    if (unfinished === 0 || step + 1 >= maxNewTokens) break;
    const grown = new BigInt64Array(batch * (total + 1)).fill(1n);
    for (let row = 0; row < batch; row++) grown.set(mask.subarray(row * total, (row + 1) * total), row * (total + 1));
    mask = grown;
    total += 1;
    const feeds: Record<string, OrtTensor> = {
      ...past,
      input_ids: new runtime.Tensor('int64', next, [batch, 1]),
      attention_mask: new runtime.Tensor('int64', mask, [batch, total]),
      position_ids: new runtime.Tensor(
        'int64',
        BigInt64Array.from(positions, (position) => BigInt(position)),
        [batch, 1],
      ),
      ...keepFeed(sessions, 1),
    };
    for (let row = 0; row < batch; row++) positions[row]! += 1;
    const fetches = buffers?.fetches(total) ?? null;
    const result = fetches ? await session.run(feeds, fetches) : await session.run(feeds);
    logits = buffers ? buffers.stepLogits(result) : (result.logits!.data as Float32Array);
    past = {};
    // With buffers, the fetched views hold the presents (onnxruntime-node returns copies of them).
    for (const name of pastNames) past[name] = (fetches?.[presentName(name)] ?? result[presentName(name)])!;
  }
  return outputs;
}

/**
 * The total log-probability of each candidate target after each prompt, `[prompt][candidate]`: one pass
 * over the prompts, whose last logits score every candidate's first token, then one batched pass of
 * every (prompt, candidate) pair over the prompt's cache, tiled, for the candidates' other tokens.
 */
export async function causalCandidateTotals(
  sessions: CausalLmSessions,
  prompts: readonly (readonly number[])[],
  candidates: readonly (readonly number[])[],
): Promise<number[][]> {
  const { runtime, session, folder, pastNames } = sessions;
  const batch = prompts.length;
  if (batch === 0) return [];
  const pass = await runPrompts(sessions, prompts);
  const { vocabulary } = pass;
  const totals = prompts.map((_, row) =>
    candidates.map((candidate) => logProbability(pass.lastLogits, row * vocabulary, vocabulary, candidate[0]!)),
  );
  // Inputs are every candidate token but the last; each predicts the token after it.
  let steps = 0;
  for (const candidate of candidates) steps = Math.max(steps, candidate.length - 1);
  if (steps === 0) return totals;
  const count = candidates.length;
  const rows = batch * count;
  const total = pass.length + steps;
  const ids = new BigInt64Array(rows * steps).fill(BigInt(folder.descriptor.padTokenId));
  const mask = new BigInt64Array(rows * total);
  const positions = new BigInt64Array(rows * steps);
  for (let row = 0; row < batch; row++) {
    for (let index = 0; index < count; index++) {
      const pair = row * count + index;
      const candidate = candidates[index]!;
      mask.set(pass.mask.subarray(row * pass.length, (row + 1) * pass.length), pair * total);
      for (let step = 0; step < steps; step++) {
        // Right padding after a shorter candidate: causal attention keeps it out of the real tokens.
        const inside = step < candidate.length - 1;
        if (inside) ids[pair * steps + step] = BigInt(candidate[step]!);
        mask[pair * total + pass.length + step] = inside ? 1n : 0n;
        positions[pair * steps + step] = BigInt(pass.nextPositions[row]! + step);
      }
    }
  }
  const feeds: Record<string, OrtTensor> = {
    input_ids: new runtime.Tensor('int64', ids, [rows, steps]),
    attention_mask: new runtime.Tensor('int64', mask, [rows, total]),
    position_ids: new runtime.Tensor('int64', positions, [rows, steps]),
    // Every candidate position predicts the candidate's next token.
    ...keepFeed(sessions, steps),
  };
  for (const name of pastNames) {
    const tensor = pass.past[name]!;
    feeds[name] = new runtime.Tensor('float32', tileRows(tensor.data as Float32Array, batch, count), [rows, ...tensor.dims.slice(1)]);
  }
  const logits = (await session.run(feeds, ['logits'])).logits!.data as Float32Array;
  for (let row = 0; row < batch; row++) {
    for (let index = 0; index < count; index++) {
      const candidate = candidates[index]!;
      const pair = row * count + index;
      for (let step = 0; step + 1 < candidate.length; step++) {
        totals[row]![index]! += logProbability(logits, (pair * steps + step) * vocabulary, vocabulary, candidate[step + 1]!);
      }
    }
  }
  return totals;
}
