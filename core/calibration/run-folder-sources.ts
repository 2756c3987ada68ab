import { existsSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { readTextFileNoFollow } from '../files/no-follow-files.js';
import { readJsonLines } from '../parsing/json-lines.js';
import { holdsExportedStudent } from '../inference/student-folder.js';
import { currentModelFolder } from '../runner/current-model.js';
import { readStageRecord } from '../runner/stage-record.js';
import type { StageName } from '../runner/stage-name.js';
import type { StageOutputs } from '../runner/stage-outputs.js';

/** One example of a split as calibration reads it: the student's input and the gold label. */
export interface SplitExample {
  readonly id: string;
  readonly input: string;
  readonly gold: string;
}

/** What calibration reads from a run folder. */
export interface RunFolderSources {
  readonly runDirectory: string;
  /** The model folder `calibration.json` goes into: the one asked for, else `<run>/model`. */
  readonly modelDirectory: string;
  /** The export stage's own model folder, which `<run>/model` links to (null where the record is gone). */
  readonly exportedDirectory: string | null;
  /** The validation examples the trainer chose its checkpoint on (its `data/validation.jsonl`). */
  readonly validation: readonly SplitExample[];
  readonly test: readonly SplitExample[];
  /** The metric the run scored with: the evaluator that decides whether two answers agree. */
  readonly metric: string;
  /** The closed label set the evaluate stage scored or counted with; null for free answers. */
  readonly labels: readonly string[] | null;
  /** The teacher's answer per example ({@link teacherKey}), from the teacher stage and the evaluate stage's test records. */
  readonly teacherAnswers: ReadonlyMap<string, string>;
}

/** The key of a teacher answer: ids are unique within a split only, so the input goes with the id. */
export function teacherKey(id: string, input: string): string {
  return `${id}\u0000${input}`;
}

/** `stages.json` of a run folder: each stage's folder (relative) and signature. */
type StagesFile = Record<string, { readonly directory?: unknown; readonly signature?: unknown }>;

/** The run folder a folder names: itself, or the run folder around its `model/` folder; null for neither. */
function runDirectoryOf(folder: string): string | null {
  if (existsSync(path.join(folder, 'stages.json'))) return folder;
  const parent = path.dirname(folder);
  if (path.basename(folder) === currentModelFolder && existsSync(path.join(parent, 'stages.json'))) return parent;
  return null;
}

/** A stage's record output from `stages.json`, or null where the stage never finished. */
function stageOutput<Name extends StageName>(
  runDirectory: string,
  stages: StagesFile,
  stage: Name,
): { output: StageOutputs[Name]; directory: string } | null {
  const entry = stages[stage];
  if (!entry || typeof entry.directory !== 'string' || typeof entry.signature !== 'string') return null;
  const directory = path.resolve(runDirectory, entry.directory);
  const relative = path.relative(runDirectory, directory);
  // stages.json is distill's, but a hand-edited one must not send the reader outside the run folder.
  if (relative.startsWith('..') || path.isAbsolute(relative)) return null;
  const record = readStageRecord<StageOutputs[Name]>(directory, { stage, signature: entry.signature });
  return record ? { output: record.output, directory } : null;
}

/** Reads `{id, input, label}` JSON lines (a split distill wrote) as split examples. */
async function readSplitFile(file: string, what: string): Promise<SplitExample[]> {
  const examples: SplitExample[] = [];
  for await (const { value } of readJsonLines(file, what)) {
    const record = value as { id?: unknown; input?: unknown; label?: unknown } | null;
    if (typeof record?.input !== 'string' || typeof record.label !== 'string') continue;
    examples.push({ id: String(record.id), input: record.input, gold: record.label });
  }
  return examples;
}

/** Adds the answered records of a teacher records file to `answers` (a later record of an example wins). */
async function readTeacherAnswers(file: string, answers: Map<string, string>): Promise<void> {
  for await (const { value } of readJsonLines(file, 'teacher records')) {
    const record = value as { id?: unknown; student_input?: unknown; teacher_label?: unknown } | null;
    if (typeof record?.student_input !== 'string' || typeof record.teacher_label !== 'string') continue;
    answers.set(teacherKey(String(record.id), record.student_input), record.teacher_label);
  }
}

/** Where a run's calibration inputs lie: from `stages.json` for a finished run, from the stage records inside the evaluate stage. */
export interface RunStageFiles {
  readonly runDirectory: string;
  readonly modelDirectory: string;
  readonly exportedDirectory: string | null;
  /** The trainer's `data/validation.jsonl`; null without a trainer stage. */
  readonly validationFile: string | null;
  /** The dataset stage's test split; null without one. */
  readonly testFile: string | null;
  /** The run's metric (the trainer's); null without a trainer stage. */
  readonly metric: string | null;
  /** Teacher records files, later ones overriding earlier ones; missing files are skipped. */
  readonly teacherRecordFiles: readonly string[];
  readonly labels: readonly string[] | null;
}

/**
 * Finds what calibration needs in a run folder, or in the `model/` folder of one: the exported model,
 * the trainer's validation split, the test split, the metric, and the teacher's answers. Anything
 * missing is a {@link UserError} that says what and how to get it.
 */
export async function readRunFolderSources(folder: string): Promise<RunFolderSources> {
  const absolute = path.resolve(folder);
  if (!existsSync(absolute) || !lstatSync(absolute).isDirectory()) {
    throw new UserError({
      message: `${folder} is not a folder`,
      fix: 'pass a run folder (runs/<name>) or its model folder (runs/<name>/model)',
    });
  }
  const runDirectory = runDirectoryOf(absolute);
  if (runDirectory === null) {
    const isModel = holdsExportedStudent(absolute);
    throw new UserError({
      message: isModel
        ? `${folder} is a model folder outside a run folder: calibration needs the run's validation split and teacher records`
        : `${folder} is neither a run folder (no stages.json) nor a run's model folder`,
      fix: 'pass the run folder that `distill run` wrote (runs/<name>), or its model folder (runs/<name>/model)',
    });
  }
  // Written by distill; only the fields read below are trusted, each checked.
  const stages = JSON.parse(readTextFileNoFollow(path.join(runDirectory, 'stages.json'))) as StagesFile;
  const exported = stageOutput(runDirectory, stages, 'export');
  const linked = path.join(runDirectory, currentModelFolder);
  const modelDirectory = absolute !== runDirectory ? absolute : existsSync(linked) ? linked : (exported?.output.directory ?? linked);
  const trainer = stageOutput(runDirectory, stages, 'trainer');
  const dataset = stageOutput(runDirectory, stages, 'dataset');
  const teacher = stageOutput(runDirectory, stages, 'teacher');
  const evaluate = stageOutput(runDirectory, stages, 'evaluate');
  const testRecords = evaluate?.output.teacherOnTest?.recordsFile;
  return readRunStageFiles({
    runDirectory,
    modelDirectory,
    exportedDirectory: exported?.output.directory ?? null,
    validationFile: trainer ? path.join(trainer.output.outputDirectory, 'data', 'validation.jsonl') : null,
    testFile: dataset?.output.testFile ?? null,
    metric: trainer?.output.metric ?? null,
    teacherRecordFiles: [
      ...(teacher ? [path.join(teacher.directory, 'teacher-records.jsonl')] : []),
      ...(evaluate && testRecords ? [path.resolve(evaluate.directory, testRecords)] : []),
    ],
    labels: evaluate?.output.scoredLabels ?? evaluate?.output.confusion?.labels ?? null,
  });
}

/** Reads and checks the files a run's calibration needs; anything missing is a {@link UserError} saying what and how to get it. */
export async function readRunStageFiles(files: RunStageFiles): Promise<RunFolderSources> {
  const { runDirectory, modelDirectory } = files;
  if (!holdsExportedStudent(modelDirectory)) {
    throw new UserError({
      message: `${runDirectory} has no exported model (no ${path.relative(runDirectory, modelDirectory) || '.'}/onnx)`,
      fix: 'run the pipeline through its export stage (`distill run <pipeline>`) first',
    });
  }
  const { validationFile, metric } = files;
  if (validationFile === null || metric === null || !existsSync(validationFile)) {
    throw new UserError({
      message: `${runDirectory} has no validation split: the trainer stage's data/validation.jsonl is missing`,
      fix: 'run the pipeline through its trainer stage; calibration chooses thresholds on validation only, never on test',
    });
  }
  const validation = await readSplitFile(validationFile, 'validation split');
  if (validation.length === 0) {
    throw new UserError({
      message: `the validation split of ${runDirectory} is empty`,
      fix: 'give the pipeline a validation split (dataset.splits.validation, or dataset.validation_fraction > 0)',
    });
  }
  const test = files.testFile && existsSync(files.testFile) ? await readSplitFile(files.testFile, 'test split') : [];
  const teacherAnswers = new Map<string, string>();
  for (const file of files.teacherRecordFiles) if (existsSync(file)) await readTeacherAnswers(file, teacherAnswers);
  if (teacherAnswers.size === 0) {
    throw new UserError({
      message: `${runDirectory} has no teacher records: the reference labels come from the teacher stage's teacher-records.jsonl`,
      fix: 'run the pipeline through its teacher stage (`distill run <pipeline>`)',
    });
  }
  return {
    runDirectory,
    modelDirectory,
    exportedDirectory: files.exportedDirectory,
    validation,
    test,
    metric,
    labels: files.labels,
    teacherAnswers,
  };
}
