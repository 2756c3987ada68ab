import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { readJsonLines } from '../parsing/json-lines.js';
import { loadStudent, type LoadStudentOptions, type Prediction } from './load-student.js';

/** What `distill predict` runs. */
export interface PredictTextsRequest {
  /** Exported student folder. */
  readonly model: string;
  /** Texts given on the command line. */
  readonly texts?: readonly string[];
  /** A JSON Lines file whose records carry an `input` string; other fields are passed through. */
  readonly inputFile?: string;
  readonly explain?: boolean;
  readonly maxNewTokens?: number;
  /** Score the allowed labels (the folder's, else `labels`) instead of generating; adds `confidence`. */
  readonly scoreLabels?: boolean;
  /** Give generated answers their mean token log-probability (`meanLogProbability`), the open-answer confidence. */
  readonly answerLogProbability?: boolean;
  /** The allowed labels for `scoreLabels` where the folder has none (T5 folders). */
  readonly labels?: readonly string[];
  readonly student?: LoadStudentOptions;
}

/** One output record: the input record's fields plus the prediction. */
export type PredictionRecord = Record<string, unknown> & { readonly input: string } & Prediction;

async function readInputRecords(file: string): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  for await (const { value, line } of readJsonLines(path.resolve(file), 'input file')) {
    const record = value as Record<string, unknown> | null;
    if (typeof record !== 'object' || record === null || typeof record.input !== 'string') {
      throw new UserError({
        message: `line ${line} of ${file} has no string field "input"`,
        file,
        line,
        fix: 'each line must be a JSON object like {"input": "premise </s> hypothesis"}',
      });
    }
    records.push(record);
  }
  return records;
}

/**
 * Predicts labels (and rationales with `explain`) for texts from the command line or a JSON Lines
 * file, in input order.
 */
export async function predictTexts(request: PredictTextsRequest): Promise<PredictionRecord[]> {
  const fromFile = request.inputFile ? await readInputRecords(request.inputFile) : [];
  const records: Record<string, unknown>[] = [...(request.texts ?? []).map((text) => ({ input: text })), ...fromFile];
  if (records.length === 0) {
    throw new UserError({ message: 'nothing to predict', fix: 'pass a text as argument or --input <file.jsonl>' });
  }
  const student = await loadStudent(request.model, request.student);
  try {
    const predictions = await student.predict(
      records.map((record) => record.input as string),
      {
        explain: request.explain ?? false,
        ...(request.maxNewTokens ? { maxNewTokens: request.maxNewTokens } : {}),
        ...(request.scoreLabels ? { scoreLabels: true } : {}),
        ...(request.answerLogProbability && !request.scoreLabels ? { answerLogProbability: true } : {}),
        ...(request.labels ? { labels: request.labels } : {}),
      },
    );
    return records.map((record, index) => ({ ...record, ...predictions[index]! }) as PredictionRecord);
  } finally {
    await student.close();
  }
}
