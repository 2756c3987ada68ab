import { UserError } from '../errors/user-error.js';
import { decoderCaches, greedyDecode, type OnnxRuntime, type StudentSessions } from './greedy-decoder.js';
import { bestLabel, decodeInBatches } from './label-scores.js';
import { loadCausalLmStudent } from './load-causal-lm-student.js';
import { studentSessionOptions } from './session-options.js';
import { defaultPrecisionOf } from './precision-choice.js';
import { readStudentFolder, type StudentPrecision, type T5StudentFolder } from './student-folder.js';
import { createStudentTokenizer } from './student-tokenizer.js';
import { t5CandidateTotals } from './t5-candidate-totals.js';

/** How to run an exported student. */
export interface LoadStudentOptions {
  /**
   * `fp32` or the `int8` graphs written by `distill export --quantize`; default: the folder's own
   * choice (`distill-precision.json`, int8 where it cost under half a point of accuracy when the
   * folder was exported), else fp32.
   */
  readonly precision?: StudentPrecision;
  /** Threads inside one operator (onnxruntime `intraOpNumThreads`); default 1, since servers run several requests. */
  readonly intraOpThreads?: number;
  /** Threads across independent operators (`interOpNumThreads`); default 1. */
  readonly interOpThreads?: number;
  /**
   * Let onnxruntime's worker threads spin between the operators of a run instead of sleeping
   * (`session.intra_op.allow_spinning`, with `session.force_spinning_stop` so they sleep once a run
   * ends); default false. Only matters with `intraOpThreads` > 1. Spinning saves waking a worker for
   * each parallel operator, and keeps a core busy while it spins: on cores of its own that is faster,
   * next to any other busy process it is several times slower (see docs/onnx-layout.md, "Threads").
   */
  readonly spinning?: boolean;
  /**
   * How far onnxruntime rewrites the graphs when it loads them (`graphOptimizationLevel`): `all`
   * (default: constant folding, fusions and the CPU's own layouts), `extended`, `basic` or `disabled`.
   * Outputs are the same at every level; only speed and load time change (bench/README.md).
   */
  readonly graphOptimizationLevel?: GraphOptimizationLevel;
  /**
   * Decode into buffers allocated once per generation instead of letting onnxruntime allocate every
   * step's logits and key/value caches: two buffers per cache, written in turn, passed to the runs as
   * preallocated outputs. Same outputs; default false: no speed difference measured once the
   * bench's runtimes took turns at running first (BENCHMARKS.md, student inference).
   */
  readonly reuseBuffers?: boolean;
  /** Default cap on generated tokens per text (default: the folder's `max_new_tokens`, else 64). */
  readonly maxNewTokens?: number;
  /** Input tokens kept per text (default: the folder's `model_max_length`, the trainer's `max_input_length`, else 1024). */
  readonly maxInputTokens?: number;
  /**
   * Texts decoded together in one batch (default 16). fp32 results do not depend on it; int8 results
   * can, since dynamic quantisation scales activations per tensor, i.e. over the whole batch.
   */
  readonly batchSize?: number;
}

/** onnxruntime's graph optimisation levels (`InferenceSession.SessionOptions.graphOptimizationLevel`). */
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

/** Options of one {@link Student.predict} call. */
export interface PredictOptions {
  /** Also generate the rationale (`explain: ` prefix); doubles the work. */
  readonly explain?: boolean;
  /** Cap on generated tokens for this call. */
  readonly maxNewTokens?: number;
  /**
   * Score every allowed label instead of generating one: the label of the highest total
   * log-probability is the answer, with its probability among the labels as `confidence`. The
   * labels are `labels`, else the folder's (a causal-LM student's `distill-student.json`).
   */
  readonly scoreLabels?: boolean;
  /** The allowed labels for `scoreLabels` (T5 folders carry none). */
  readonly labels?: readonly string[];
  /**
   * For freely generated answers (no `scoreLabels`): also give each answer's
   * {@link Prediction.meanLogProbability}, the open-answer confidence. Off by default, since it
   * takes a softmax over the vocabulary per generated token.
   */
  readonly answerLogProbability?: boolean;
}

/** One prediction. */
export interface Prediction {
  readonly label: string;
  /** Present when `explain` was asked for. */
  readonly rationale?: string;
  /** With `scoreLabels`: the label's probability among the allowed labels (softmax of their total log-probabilities). */
  readonly confidence?: number;
  /**
   * With `scoreLabels`: every allowed label's probability among the allowed labels, keyed by label
   * (they sum to 1; `confidence` is the answer's). What `distill calibrate` thresholds, and what a
   * caller needs to see how close the runner-up came.
   */
  readonly probabilities?: Readonly<Record<string, number>>;
  /**
   * With `answerLogProbability` on a generated answer: the mean natural-log probability of the greedy
   * answer's tokens, its end token included (≤ 0; nearer 0 is surer). The confidence of open answers
   * (free numeric answers, say), where no label set exists to score; it is not a probability, and
   * `distill calibrate` thresholds it as it is.
   */
  readonly meanLogProbability?: number;
}

/** A loaded student of either family: tokeniser plus its onnxruntime sessions. */
export interface Student {
  /** Folder it was loaded from (absolute). */
  readonly directory: string;
  /** `t5` (encoder-decoder) or `causal-lm` (decoder-only, docs/decoder-students.md). */
  readonly family: 't5' | 'causal-lm';
  readonly precision: StudentPrecision;
  /** Labels (the `predict` task) and, on request, rationales (the `explain` task) for each text. */
  predict(texts: readonly string[], options?: PredictOptions): Promise<Prediction[]>;
  /**
   * Greedy token ids; what the parity tests compare. T5: texts given with their task prefix. Causal LM:
   * complete prompts (task markers included), encoded with the folder's prompt special tokens.
   */
  generateIds(prefixedTexts: readonly string[], maxNewTokens?: number): Promise<number[][]>;
  /** Text of generated ids. */
  decode(ids: readonly number[]): string;
  /** Releases the sessions. */
  close(): Promise<void>;
}

/** The task prefixes the student was trained with (Distilling Step-by-Step's multi-task input). */
export const taskPrefixes = { predict: 'predict: ', explain: 'explain: ' } as const;

/**
 * The labels to score a prediction call against: the call's, else the folder's. Asking to score
 * without any is a {@link UserError}, since a free answer cannot be scored.
 */
export function labelsToScore(options: PredictOptions, folderLabels: readonly string[] | null): readonly string[] {
  const labels = options.labels ?? folderLabels;
  if (!labels || labels.length === 0) {
    throw new UserError({
      message: 'label scoring needs the allowed labels, and this student folder has none',
      fix: 'pass the labels (e.g. `labels: ["entailment", "neutral", "contradiction"]`), or generate the answer freely',
    });
  }
  return labels;
}

/**
 * Loads an exported student folder (the transformers.js layout written by the `onnx` exporter) for
 * batched greedy decoding in Node: a T5 student (two graphs) or a causal-LM one (`distill-student.json`
 * and `onnx/model.onnx`), behind the same {@link Student}. A wrong folder fails here with a
 * {@link UserError} naming what is missing. onnxruntime-node is imported on first use so that
 * commands not running a model stay fast.
 */
export async function loadStudent(directory: string, options: LoadStudentOptions = {}): Promise<Student> {
  const precision = options.precision ?? defaultPrecisionOf(directory);
  const folder = readStudentFolder(directory, precision);
  const runtime: OnnxRuntime = await import('onnxruntime-node');
  const chosen = { ...options, precision };
  if (folder.family === 'causal-lm') return loadCausalLmStudent(folder, runtime, chosen);
  return loadT5Student(folder, runtime, chosen);
}

/** A T5 student: the encoder and the merged decoder, `predict: ` and `explain: ` tasks. */
async function loadT5Student(folder: T5StudentFolder, runtime: OnnxRuntime, options: LoadStudentOptions): Promise<Student> {
  const precision = options.precision ?? 'fp32';
  const tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
  const sessionOptions = studentSessionOptions(options);
  const encoder = await runtime.InferenceSession.create(folder.encoderPath, sessionOptions);
  const decoder = await runtime.InferenceSession.create(folder.decoderPath, sessionOptions);
  const sessions: StudentSessions = {
    runtime,
    encoder,
    decoder,
    folder,
    caches: decoderCaches(decoder),
    reuseBuffers: options.reuseBuffers ?? false,
  };
  // Defaults come from the folder, so a student scores in Node what it scored where it was trained.
  const defaultMaxNewTokens = options.maxNewTokens ?? folder.maxNewTokens ?? 64;
  // The folder's length is the label's; rationales are longer (method: generation up to 64 tokens).
  const defaultRationaleTokens = options.maxNewTokens ?? Math.max(64, defaultMaxNewTokens);
  const maxInputTokens = options.maxInputTokens ?? folder.maxInputTokens ?? 1024;
  const batchSize = Math.max(1, options.batchSize ?? 16);

  const generateIds = (prefixedTexts: readonly string[], maxNewTokens = defaultMaxNewTokens, means?: number[]) =>
    decodeInBatches(
      prefixedTexts.map((text) => tokenizer.encode(text, maxInputTokens)),
      batchSize,
      (batch, scores) => greedyDecode(sessions, batch, maxNewTokens, scores),
      means,
    );

  /** Each text's best label among `labels` and its probability, scored by the decoder. */
  async function scoreLabels(texts: readonly string[], labels: readonly string[]) {
    // T5's tokenizer appends `</s>`, the label's end token.
    const candidates = labels.map((label) => tokenizer.encode(label));
    const scored = [];
    for (let start = 0; start < texts.length; start += batchSize) {
      const batch = texts.slice(start, start + batchSize).map((text) => tokenizer.encode(taskPrefixes.predict + text, maxInputTokens));
      for (const totals of await t5CandidateTotals(sessions, batch, candidates)) scored.push(bestLabel(labels, totals));
    }
    return scored;
  }

  return {
    directory: folder.directory,
    family: 't5',
    precision,
    generateIds,
    decode: (ids) => tokenizer.decode(ids),
    async predict(texts, predictOptions = {}) {
      const means = predictOptions.answerLogProbability ? [] : undefined;
      const labels: Prediction[] = predictOptions.scoreLabels
        ? await scoreLabels(texts, labelsToScore(predictOptions, null))
        : (
            await generateIds(
              texts.map((text) => taskPrefixes.predict + text),
              predictOptions.maxNewTokens ?? defaultMaxNewTokens,
              means,
            )
          ).map((ids, index) => ({ label: tokenizer.decode(ids), ...(means ? { meanLogProbability: means[index]! } : {}) }));
      if (!predictOptions.explain) return labels;
      const rationales = await generateIds(
        texts.map((text) => taskPrefixes.explain + text),
        predictOptions.maxNewTokens ?? defaultRationaleTokens,
      );
      return labels.map((prediction, index) => ({ ...prediction, rationale: tokenizer.decode(rationales[index]!) }));
    },
    async close() {
      await encoder.release();
      await decoder.release();
    },
  };
}
