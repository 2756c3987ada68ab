import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { dsbsDatasetNames, dsbsStudentInput, readDsbsExamples, type DsbsDatasetName } from '../parsing/dsbs-datasets.js';
import { readJsonLines } from '../parsing/json-lines.js';
import { resolveDsbsRoot } from '../parsing/resolve-data-root.js';

/** One example to score: the student's input (without task prefix) and the gold label. */
export interface EvaluationExample {
  readonly input: string;
  readonly label: string;
}

/** Where evaluation examples come from. */
export interface EvaluationSource {
  /** A dsbs dataset name (`esnli`, `anli1`, `cqa`, `svamp`) or a JSON Lines file with `input` and `label` fields. */
  readonly dataset: string;
  /** Split of a dsbs dataset (default `test`); ignored for a file. */
  readonly split?: string;
  /** The dsbs folder; default `$DISTILL_DSBS_DIR`. */
  readonly root?: string;
  /** Keep only the first N examples. */
  readonly limit?: number;
  /** Folder relative paths resolve against (default: the working folder). */
  readonly baseDirectory?: string;
  readonly environment?: Readonly<Record<string, string | undefined>>;
  /** Metric for a file (default `exact-match`); a dsbs dataset always uses its own. */
  readonly metric?: 'exact-match' | 'numeric-equality';
}

/** The examples and the metric that scores them: SVAMP by numeric equality, everything else by exact match. */
export interface EvaluationSet {
  readonly examples: EvaluationExample[];
  readonly metric: 'exact-match' | 'numeric-equality';
  /** What was read, for reports. */
  readonly description: string;
}

function isDsbsName(name: string): name is DsbsDatasetName {
  return (dsbsDatasetNames as readonly string[]).includes(name);
}

/**
 * Reads the examples `distill eval` scores. A dsbs name reads the gold split through the same
 * record shapes and student-input formatting (`core/parsing/dsbs-datasets.ts`) that the `dsbs`
 * dataset plugin feeds the trainer, so the exported student sees exactly the inputs the trainer
 * scored; a `.jsonl` file is for any other data.
 */
export async function readEvaluationExamples(source: EvaluationSource): Promise<EvaluationSet> {
  const baseDirectory = source.baseDirectory ?? process.cwd();
  const limit = source.limit ?? Number.POSITIVE_INFINITY;
  const examples: EvaluationExample[] = [];
  if (isDsbsName(source.dataset)) {
    const split = source.split ?? 'test';
    const root = resolveDsbsRoot(source.root, baseDirectory, source.environment ?? process.env, 'eval');
    for await (const example of readDsbsExamples(root, source.dataset, split)) {
      if (examples.length >= limit) break;
      examples.push({ input: dsbsStudentInput(source.dataset, example.fields), label: example.goldLabel ?? '' });
    }
    return {
      examples,
      metric: source.dataset === 'svamp' ? 'numeric-equality' : 'exact-match',
      description: `${source.dataset}/${split}`,
    };
  }
  const file = path.resolve(baseDirectory, source.dataset);
  if (!existsSync(file) || !statSync(file).isFile()) {
    throw new UserError({
      message: `unknown dataset "${source.dataset}": neither a dsbs dataset nor a file`,
      fix: `use one of ${dsbsDatasetNames.join(', ')}, or a JSON Lines file whose lines hold "input" and "label"`,
    });
  }
  for await (const { value, line } of readJsonLines(file, 'evaluation file')) {
    if (examples.length >= limit) break;
    const record = value as Record<string, unknown> | null;
    if (typeof record?.input !== 'string' || typeof record.label !== 'string') {
      throw new UserError({
        message: `line ${line} of ${file} lacks a string "input" or "label"`,
        file,
        line,
        fix: 'each line must be an object like {"input": "...", "label": "..."}',
      });
    }
    examples.push({ input: record.input, label: record.label });
  }
  return { examples, metric: source.metric ?? 'exact-match', description: path.basename(file) };
}
