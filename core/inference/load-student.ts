import type { InferenceSession } from 'onnxruntime-node';
import { decoderCaches, greedyDecode, type OnnxRuntime, type StudentSessions } from './greedy-decoder.js';
import { readStudentFolder, type StudentPrecision } from './student-folder.js';
import { createStudentTokenizer } from './student-tokenizer.js';

/** How to run an exported student. */
export interface LoadStudentOptions {
  /** `fp32` (default) or the `int8` graphs written by `distill export --quantize`. */
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

/** Options of one {@link Student.predict} call. */
export interface PredictOptions {
  /** Also generate the rationale (`explain: ` prefix); doubles the work. */
  readonly explain?: boolean;
  /** Cap on generated tokens for this call. */
  readonly maxNewTokens?: number;
}

/** One prediction. */
export interface Prediction {
  readonly label: string;
  /** Present when `explain` was asked for. */
  readonly rationale?: string;
}

/** A loaded student: tokeniser plus the two onnxruntime sessions. */
export interface Student {
  /** Folder it was loaded from (absolute). */
  readonly directory: string;
  readonly precision: StudentPrecision;
  /** Labels (`predict: ` task) and, on request, rationales (`explain: ` task) for each text. */
  predict(texts: readonly string[], options?: PredictOptions): Promise<Prediction[]>;
  /** Greedy token ids for texts given with their task prefix; what the parity tests compare. */
  generateIds(prefixedTexts: readonly string[], maxNewTokens?: number): Promise<number[][]>;
  /** Text of generated ids. */
  decode(ids: readonly number[]): string;
  /** Releases the sessions. */
  close(): Promise<void>;
}

/** The task prefixes the student was trained with (Distilling Step-by-Step's multi-task input). */
export const taskPrefixes = { predict: 'predict: ', explain: 'explain: ' } as const;

/**
 * Loads an exported student folder (the transformers.js layout written by the `onnx` exporter) for
 * batched greedy decoding in Node. A wrong folder fails here with a {@link UserError} naming what is
 * missing. onnxruntime-node is imported on first use so that commands not running a model stay fast.
 */
export async function loadStudent(directory: string, options: LoadStudentOptions = {}): Promise<Student> {
  const precision = options.precision ?? 'fp32';
  const folder = readStudentFolder(directory, precision);
  const tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
  const runtime: OnnxRuntime = await import('onnxruntime-node');
  const sessionOptions: InferenceSession.SessionOptions = {
    intraOpNumThreads: options.intraOpThreads ?? 1,
    interOpNumThreads: options.interOpThreads ?? 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: {
      session: options.spinning
        ? // Spin inside a run; stop when it ends, so that the idle session's pool never spins while the other runs.
          { 'intra_op.allow_spinning': '1', 'inter_op.allow_spinning': '1', force_spinning_stop: '1' }
        : { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' },
    },
  };
  const encoder = await runtime.InferenceSession.create(folder.encoderPath, sessionOptions);
  const decoder = await runtime.InferenceSession.create(folder.decoderPath, sessionOptions);
  const sessions: StudentSessions = { runtime, encoder, decoder, folder, caches: decoderCaches(decoder) };
  // Defaults come from the folder, so a student scores in Node what it scored where it was trained.
  const defaultMaxNewTokens = options.maxNewTokens ?? folder.maxNewTokens ?? 64;
  // The folder's length is the label's; rationales are longer (method: generation up to 64 tokens).
  const defaultRationaleTokens = options.maxNewTokens ?? Math.max(64, defaultMaxNewTokens);
  const maxInputTokens = options.maxInputTokens ?? folder.maxInputTokens ?? 1024;
  const batchSize = Math.max(1, options.batchSize ?? 16);

  async function generateIds(prefixedTexts: readonly string[], maxNewTokens = defaultMaxNewTokens): Promise<number[][]> {
    const results: number[][] = [];
    for (let start = 0; start < prefixedTexts.length; start += batchSize) {
      const batch = prefixedTexts.slice(start, start + batchSize).map((text) => tokenizer.encode(text, maxInputTokens));
      results.push(...(await greedyDecode(sessions, batch, maxNewTokens)));
    }
    return results;
  }

  return {
    directory: folder.directory,
    precision,
    generateIds,
    decode: (ids) => tokenizer.decode(ids),
    async predict(texts, predictOptions = {}) {
      const maxNewTokens = predictOptions.maxNewTokens ?? defaultMaxNewTokens;
      const labels = await generateIds(
        texts.map((text) => taskPrefixes.predict + text),
        maxNewTokens,
      );
      const rationales = predictOptions.explain
        ? await generateIds(
            texts.map((text) => taskPrefixes.explain + text),
            predictOptions.maxNewTokens ?? defaultRationaleTokens,
          )
        : null;
      return labels.map((ids, index) => {
        const label = tokenizer.decode(ids);
        return rationales ? { label, rationale: tokenizer.decode(rationales[index]!) } : { label };
      });
    },
    async close() {
      await encoder.release();
      await decoder.release();
    },
  };
}
