import { availableParallelism } from 'node:os';
import type { EvaluationSettings } from '../../config/pipeline-config.js';
import { UserError } from '../../errors/user-error.js';
import { evaluateStudent } from '../../inference/evaluate-student.js';
import { loadStudent, type LoadStudentOptions, type PredictOptions } from '../../inference/load-student.js';
import { readStudentFolder } from '../../inference/student-folder.js';
import { percentile } from '../../report/statistics.js';
import type { StageContext, StageDefinition } from '../stage-definition.js';
import type { EvaluateStageOutput } from '../stage-outputs.js';
import { stepIdentity } from '../step-identity.js';
import type { PipelineContext } from './pipeline-context.js';
import { readTestSplit } from './test-split.js';

/** What the evaluate stage does when the pipeline has no `evaluation` block: free generation, fp32. */
const defaultEvaluation: EvaluationSettings = { score_labels: false, precision: 'fp32' };

/** Milliseconds of one prediction at batch 1, over real inputs, after one warm-up call. */
async function latencies(
  model: string,
  inputs: readonly string[],
  studentOptions: LoadStudentOptions,
  predictOptions: PredictOptions,
): Promise<number[]> {
  const student = await loadStudent(model, studentOptions);
  const measured: number[] = [];
  try {
    if (inputs.length > 0) await student.predict([inputs[0]!], predictOptions);
    for (const input of inputs) {
      const started = performance.now();
      await student.predict([input], predictOptions);
      measured.push(performance.now() - started);
    }
  } finally {
    await student.close();
  }
  return measured.sort((left, right) => left - right);
}

/**
 * Scores the exported model in Node on the dataset stage's test split and measures its latency, with
 * the pipeline's decoding and precision. Label scoring uses a causal-LM folder's own labels (those it
 * was trained on, in its `distill-student.json`) and the dataset's closed label set for a T5 folder.
 */
async function evaluate(
  context: PipelineContext,
  stage: StageContext,
  evaluation: EvaluationSettings,
  datasetLabels: readonly string[] | null,
): Promise<EvaluateStageOutput> {
  const { metric } = context;
  const trained = stage.upstream.trainer!.output;
  const exported = stage.upstream.export!.output;
  const testFile = stage.upstream.dataset!.output.testFile;
  const studentOptions: LoadStudentOptions = { precision: evaluation.precision };
  const labels = evaluation.score_labels && readStudentFolder(exported.directory).family === 't5' ? datasetLabels : null;
  const predictOptions: PredictOptions = evaluation.score_labels ? { scoreLabels: true, ...(labels ? { labels } : {}) } : {};
  // No length options: the exported folder carries the trainer's input cut-off and generation
  // length, and scoring with its defaults is what `distill eval` and `distill serve` do. Scoring the
  // split is a batch job with the machine to itself, so it uses every core; latency below is measured
  // as one request of a server is answered, on one thread.
  const report = await evaluateStudent({
    model: exported.directory,
    registry: context.loaded.registry,
    dataset: testFile,
    metric,
    student: { ...studentOptions, intraOpThreads: availableParallelism() },
    scoreLabels: evaluation.score_labels,
    ...(labels ? { labels } : {}),
  });
  const measured = await latencies(
    exported.directory,
    readTestSplit(testFile)
      .slice(0, 50)
      .map((example) => example.input),
    studentOptions,
    predictOptions,
  );
  return {
    metric,
    accuracy: report.accuracy,
    examples: report.examples,
    trainerAccuracy: trained.testAccuracy,
    latencyMilliseconds: { p50: percentile(measured, 0.5), p95: percentile(measured, 0.95) },
    decoding: evaluation.score_labels ? 'label-scoring' : 'generation',
    precision: evaluation.precision,
  };
}

/**
 * The evaluate stage: the exported student scored in Node, as `distill eval` and `distill serve` run it.
 * The pipeline's `evaluation` settings join the stage's inputs only where they differ from the
 * defaults, so that run folders stored before the block existed keep their signatures. Label scoring
 * on a dataset without a closed label set is refused here, before any stage runs.
 */
export async function evaluateStage(context: PipelineContext): Promise<StageDefinition<'evaluate'>> {
  const { loaded } = context;
  const evaluation = loaded.config.evaluation ?? defaultEvaluation;
  const dataset = await context.instances.of(loaded, 'dataset', loaded.config.dataset);
  if (evaluation.score_labels && dataset.labels === null) {
    throw new UserError({
      file: loaded.file,
      pointer: '/evaluation/score_labels',
      plugin: `dataset/${loaded.config.dataset.use}`,
      message: `evaluation.score_labels scores a closed set of labels, but the dataset (${loaded.config.dataset.use}) has none: its answers are free text`,
      fix: 'set evaluation.score_labels: false to generate the answers freely',
    });
  }
  const customised = evaluation.score_labels !== defaultEvaluation.score_labels || evaluation.precision !== defaultEvaluation.precision;
  return {
    name: 'evaluate',
    inputs: {
      evaluators: loaded.config.evaluators.map((step) => stepIdentity(loaded, 'evaluator', step)),
      ...(customised ? { evaluation: { score_labels: evaluation.score_labels, precision: evaluation.precision } } : {}),
    },
    run: (stage) => evaluate(context, stage, evaluation, dataset.labels),
  };
}
