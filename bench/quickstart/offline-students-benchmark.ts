/**
 * The README's main command, measured: the offline recipes run end to end on this machine, one after the
 * other, each in a fresh run folder and a fresh teacher cache, as a new user runs them. For each: the wall
 * time of every stage and of the whole pipeline, the exported student's accuracy in Node on the test split
 * (the evaluate stage's), the trainer's own scores, and beside them the recorded PaLM teacher's label
 * accuracy on the same test examples and the majority class.
 *
 *   npm run bench -- --only offline-students
 *
 * `quickstart` is the README's main command (SmolLM2-135M, pretrained); `esnli-from-scratch` is the same
 * distillation into a T5 trained from random weights, the quickstart of earlier versions.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CalibrationFile, StoredTestPoint } from '../../core/calibration/calibration-file.js';
import type { Dataset } from '../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import { readDsbsRecordings } from '../../plugins/teachers/recorded/dsbs-recordings.js';
import { BenchUsageError, type BenchContext, type BenchOutcome } from '../support/bench-context.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { repositoryRoot } from '../support/bench-paths.js';
import { loadAverage } from '../support/machine-info.js';

/**
 * The recipes measured, and the shipped sample they read. `quickstart-int8` is the quickstart with the int8
 * graph exported and scored instead of the float32 one: its accuracy beside the quickstart's is the
 * quantisation's cost on a trained student (same seed, so the same weights before quantisation).
 */
const recipes = ['quickstart', 'quickstart-int8', 'esnli-from-scratch'] as const;
const recipeVariants: Record<string, { file: string; overrides: string; description: string }> = {
  'quickstart-int8': {
    file: 'quickstart',
    overrides: 'export:\n  options: { quantize: true }\nevaluation:\n  precision: int8\n',
    description: 'with export.options.quantize: true and evaluation.precision: int8',
  },
};
const sampleRoot = path.join(repositoryRoot, 'pipelines', 'data', 'esnli-sample');

/** One recipe's run. */
interface RecipeRun {
  readonly recipe: string;
  /** When this recipe's run started, and the load then: rows may come from different bench runs. */
  readonly started_at: string;
  readonly load_average_at_start: readonly number[];
  readonly command: string;
  readonly exit_code: number;
  readonly pipeline_seconds: number;
  readonly stage_seconds: Record<string, number>;
  readonly student: Record<string, unknown>;
  readonly node_test_accuracy: number | null;
  readonly node_test_examples: number | null;
  readonly trainer_test_accuracy: number | null;
  readonly validation_accuracy: number | null;
  readonly best_step: number | null;
  readonly train_examples: number | null;
  readonly majority_class: { label: string; share: number } | null;
  /**
   * The evaluate stage's calibration for student-first serving (`evaluation.calibrate`), null where the
   * recipe does not calibrate: what it was measured against, on how many validation examples, and at
   * each target the test split's coverage (share the student answers alone) and agreement.
   */
  readonly calibration: {
    readonly against: string;
    readonly validation_examples: number;
    readonly test: readonly StoredTestPoint[];
  } | null;
}

/** The recorded PaLM teacher's label accuracy on the sample's test split (the same examples the students are scored on). */
async function teacherTestAccuracy(): Promise<{ accuracy: number; examples: number }> {
  const dependencies = benchDependencies();
  const dataset = (await builtinDescriptor('dataset', 'dsbs').create({ name: 'esnli', root: sampleRoot }, dependencies)) as Dataset;
  const parser = (await builtinDescriptor('parser', 'palm').create({ dataset: 'esnli' }, dependencies)) as Parser;
  const recordings = await readDsbsRecordings(sampleRoot, 'esnli', 'test');
  let correct = 0;
  let examples = 0;
  for await (const example of dataset.read('test')) {
    const completion = recordings.get(example.id);
    const parsed = completion === undefined ? null : parser.parse(completion, example);
    examples++;
    if (parsed?.label === example.goldLabel) correct++;
  }
  return { accuracy: correct / examples, examples };
}

/** Runs `distill run` on a wrapper of the recipe that writes into `folder`; resolves with the exit code. */
function runRecipe(recipe: string, folder: string): Promise<{ exitCode: number; command: string }> {
  const variant = recipeVariants[recipe];
  const file = variant?.file ?? recipe;
  const wrapper = path.join(folder, `${file}.yaml`);
  const recipeFile = path.join(repositoryRoot, 'pipelines', `${file}.yaml`);
  const output = `output:\n  directory: ${JSON.stringify(path.join(folder, 'runs'))}\n`;
  writeFileSync(wrapper, `extends: ${JSON.stringify(recipeFile)}\n${output}${variant?.overrides ?? ''}`);
  const command = `distill run pipelines/${file}.yaml${variant ? ` ${variant.description}` : ''}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repositoryRoot, 'bin', 'run.js'), 'run', wrapper], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DISTILL_CACHE_DIR: path.join(folder, 'cache') },
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ exitCode: code ?? 1, command }));
  });
}

/** The stage records of the run folder (one per stage in a fresh folder). */
function stageRecords(runFolder: string): Map<string, Record<string, unknown>> {
  const records = new Map<string, Record<string, unknown>>();
  const stages = path.join(runFolder, 'stages');
  for (const stage of readdirSync(stages)) {
    for (const signature of readdirSync(path.join(stages, stage))) {
      const file = path.join(stages, stage, signature, 'stage.json');
      try {
        records.set(stage, JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
      } catch {
        // A stage that did not finish has no record.
      }
    }
  }
  return records;
}

const seconds = (record: Record<string, unknown>) => (Date.parse(String(record.finishedAt)) - Date.parse(String(record.startedAt))) / 1000;
const numberOrNull = (value: unknown) => (typeof value === 'number' ? value : null);

/** The calibration the evaluate stage wrote (`EvaluateCalibrationOutput.calibration`), as the bench records it. */
function calibrationOf(evaluate: Record<string, unknown>): RecipeRun['calibration'] {
  const written = (evaluate.calibration as { calibration?: CalibrationFile } | null | undefined)?.calibration;
  if (!written) return null;
  return {
    against: written.against,
    validation_examples: written.examples,
    test: written.test ?? [],
  };
}

async function measureRecipe(recipe: string): Promise<RecipeRun> {
  const folder = mkdtempSync(path.join(os.tmpdir(), `distill-bench-${recipe}-`));
  try {
    console.log(`  ${recipe}: distill run (fresh run folder and teacher cache)`);
    const startedAt = new Date().toISOString();
    const loadAtStart = loadAverage();
    const started = Date.now();
    const { exitCode, command } = await runRecipe(recipe, folder);
    const pipelineSeconds = (Date.now() - started) / 1000;
    const records = stageRecords(path.join(folder, 'runs', recipeVariants[recipe]?.file ?? recipe));
    const output = (stage: string) => (records.get(stage)?.output ?? {}) as Record<string, unknown>;
    const trainer = output('trainer');
    const evaluate = output('evaluate');
    const data = (trainer.data ?? {}) as Record<string, unknown>;
    const trainerInputs = (records.get('trainer')?.inputs ?? {}) as Record<string, unknown>;
    return {
      recipe,
      started_at: startedAt,
      load_average_at_start: loadAtStart,
      command,
      exit_code: exitCode,
      pipeline_seconds: Math.round(pipelineSeconds * 10) / 10,
      stage_seconds: Object.fromEntries([...records].map(([stage, record]) => [stage, Math.round(seconds(record) * 10) / 10])),
      student: (trainerInputs.student ?? {}) as Record<string, unknown>,
      node_test_accuracy: numberOrNull(evaluate.accuracy),
      node_test_examples: numberOrNull(evaluate.examples),
      trainer_test_accuracy: numberOrNull(trainer.testAccuracy),
      validation_accuracy: numberOrNull(trainer.validationAccuracy),
      best_step: numberOrNull(trainer.bestStep),
      train_examples: numberOrNull(data.examples),
      majority_class: (output('dataset').majorityClass ?? null) as RecipeRun['majority_class'],
      calibration: calibrationOf(evaluate),
    };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * Runs the offline recipes (`--recipes` chooses some; the others keep their rows of the previous result
 * file). Smoke mode runs nothing: the recipes have no smoke size.
 */
export async function runOfflineStudentsBenchmark(context: BenchContext): Promise<BenchOutcome> {
  if (context.mode === 'smoke') return { settings: { recipes: [] }, results: { skipped: 'the offline recipes have no smoke size' } };
  const chosen = context.qualityGrid.recipes ?? recipes;
  const unknown = chosen.find((recipe) => !(recipes as readonly string[]).includes(recipe));
  if (unknown !== undefined) throw new BenchUsageError(`--recipes: one of ${recipes.join(', ')}, not "${unknown}"`);
  const previous = (context.previous?.results as { runs?: RecipeRun[] } | undefined)?.runs ?? [];
  const teacher = await teacherTestAccuracy();
  const runs = new Map<string, RecipeRun>(previous.filter((run) => !chosen.includes(run.recipe)).map((run) => [run.recipe, run]));
  const outcome = () => ({
    settings: { recipes, sample: 'pipelines/data/esnli-sample' },
    results: { teacher_test: teacher, runs: recipes.flatMap((recipe) => runs.get(recipe) ?? []) },
  });
  for (const recipe of chosen) {
    runs.set(recipe, await measureRecipe(recipe));
    context.save(outcome());
  }
  return outcome();
}
