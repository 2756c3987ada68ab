import { causalCandidateTotals, causalGreedyDecode, causalLmCaches, keepsLogits, type CausalLmSessions } from './causal-decoder.js';
import { labelEndToken, labelTargetIds, promptIds } from './decoder-prompt.js';
import type { StudentTask } from './decoder-student-descriptor.js';
import type { OnnxRuntime } from './greedy-decoder.js';
import { bestLabel, decodeInBatches } from './label-scores.js';
import { labelsToScore, type LoadStudentOptions, type Prediction, type Student } from './load-student.js';
import { studentSessionOptions } from './session-options.js';
import type { CausalLmStudentFolder } from './student-folder.js';
import { createStudentTokenizer } from './student-tokenizer.js';

/** The text before and after the rationale separator of a label-then-rationale generation. */
function splitAtSeparator(text: string, separator: string): Prediction {
  const at = text.indexOf(separator);
  if (at < 0) return { label: text.trim(), rationale: '' };
  return { label: text.slice(0, at).trim(), rationale: text.slice(at + separator.length).trim() };
}

/**
 * A causal-LM student (docs/decoder-students.md) behind the {@link Student} interface: prompts built
 * from `distill-student.json`'s task markers, greedy decoding with the key/value cache, and label
 * scoring over the prompt's cache. With `two-tasks` targets the rationale is the `explain` task's
 * answer; with `label-then-rationale` it follows the label in one generation, after the separator.
 */
export async function loadCausalLmStudent(
  folder: CausalLmStudentFolder,
  runtime: OnnxRuntime,
  options: LoadStudentOptions,
): Promise<Student> {
  const precision = options.precision ?? 'fp32';
  const { descriptor } = folder;
  const tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
  const session = await runtime.InferenceSession.create(folder.modelPath, studentSessionOptions(options));
  const sessions: CausalLmSessions = {
    runtime,
    session,
    folder,
    pastNames: causalLmCaches(session, folder),
    keepsLogits: keepsLogits(session),
    reuseBuffers: options.reuseBuffers ?? false,
  };
  const defaultMaxNewTokens = options.maxNewTokens ?? descriptor.maxNewTokens;
  // The folder's length is the label's; rationales are longer (method: generation up to 64 tokens).
  const defaultRationaleTokens = options.maxNewTokens ?? Math.max(64, defaultMaxNewTokens);
  const maxInputTokens = options.maxInputTokens ?? descriptor.maxInputTokens;
  const batchSize = Math.max(1, options.batchSize ?? 16);
  const labelThenRationale = descriptor.targets === 'label-then-rationale';
  const separatorToken = labelThenRationale ? labelEndToken(tokenizer, descriptor) : undefined;

  const generate = (prompts: readonly (readonly number[])[], maxNewTokens: number, stopToken?: number, means?: number[]) =>
    decodeInBatches(prompts, batchSize, (batch, scores) => causalGreedyDecode(sessions, batch, maxNewTokens, stopToken, scores), means);

  const taskPrompts = (task: StudentTask, texts: readonly string[]) =>
    texts.map((text) => promptIds(tokenizer, descriptor, task, text, maxInputTokens));

  /** Labels generated freely: up to the end token, or the separator after a label. */
  async function generateLabels(texts: readonly string[], maxNewTokens: number, withLogProbability = false): Promise<Prediction[]> {
    // The mean covers the token that ended the answer (end token or separator): deciding to stop is part of it.
    const means = withLogProbability ? [] : undefined;
    const generated = await generate(taskPrompts('predict', texts), maxNewTokens, separatorToken, means);
    return generated.map((ids, index) => ({
      label: tokenizer.decode(ids.at(-1) === separatorToken && separatorToken !== undefined ? ids.slice(0, -1) : ids),
      ...(means ? { meanLogProbability: means[index]! } : {}),
    }));
  }

  async function scoreLabels(texts: readonly string[], labels: readonly string[]): Promise<Prediction[]> {
    const candidates = labels.map((label) => labelTargetIds(tokenizer, descriptor, label));
    const prompts = taskPrompts('predict', texts);
    const scored: Prediction[] = [];
    for (let start = 0; start < prompts.length; start += batchSize) {
      for (const totals of await causalCandidateTotals(sessions, prompts.slice(start, start + batchSize), candidates)) {
        scored.push(bestLabel(labels, totals));
      }
    }
    return scored;
  }

  async function rationales(texts: readonly string[], maxNewTokens: number): Promise<string[]> {
    if (!labelThenRationale) return (await generate(taskPrompts('explain', texts), maxNewTokens)).map((ids) => tokenizer.decode(ids));
    const generated = await generate(taskPrompts('predict', texts), maxNewTokens);
    return generated.map((ids) => splitAtSeparator(tokenizer.decode(ids), descriptor.rationaleSeparator).rationale!);
  }

  return {
    directory: folder.directory,
    family: 'causal-lm',
    precision,
    async generateIds(prompts, maxNewTokens = defaultMaxNewTokens) {
      return generate(
        prompts.map((prompt) => tokenizer.encodeText(prompt, descriptor.promptSpecialTokens)),
        maxNewTokens,
      );
    },
    decode: (ids) => tokenizer.decode(ids),
    async predict(texts, predictOptions = {}) {
      const labels = predictOptions.scoreLabels
        ? await scoreLabels(texts, labelsToScore(predictOptions, descriptor.labels))
        : await generateLabels(texts, predictOptions.maxNewTokens ?? defaultMaxNewTokens, predictOptions.answerLogProbability);
      if (!predictOptions.explain) return labels;
      const explained = await rationales(texts, predictOptions.maxNewTokens ?? defaultRationaleTokens);
      return labels.map((prediction, index) => ({ ...prediction, rationale: explained[index]! }));
    },
    async close() {
      await session.release();
    },
  };
}
