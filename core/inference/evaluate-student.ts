import { standalonePluginDependencies } from '../plugins/plugin-dependencies.js';
import type { PluginRegistry } from '../plugins/plugin-registry.js';
import { readEvaluationExamples, type EvaluationExample, type EvaluationSource } from './evaluation-examples.js';
import { loadStudent, type LoadStudentOptions, type Prediction } from './load-student.js';
import { createEvaluator, scorePredictions, type Score } from './score-predictions.js';

/** What `distill eval` scores. */
export interface EvaluateStudentRequest extends EvaluationSource {
  /** Exported student folder. */
  readonly model: string;
  /** The plugins: a named dataset is read through the dataset plugin that serves it. */
  readonly registry: PluginRegistry;
  readonly student?: LoadStudentOptions;
  /**
   * Score the allowed labels instead of generating (the folder's labels, else `labels`); free
   * generation is the default, as the trainer evaluates.
   */
  readonly scoreLabels?: boolean;
  /** The allowed labels for `scoreLabels` where the folder has none (T5 folders). */
  readonly labels?: readonly string[];
  /** Called after each batch with the number of examples done, for progress output. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** The score of an exported student on a dataset split. */
export interface EvaluationReport extends Score {
  readonly model: string;
  readonly dataset: string;
  readonly precision: string;
  /** Wall-clock seconds spent predicting. */
  readonly seconds: number;
}

/** An {@link EvaluationReport} with what it was computed from, position by position. */
export interface ScoredStudent {
  readonly report: EvaluationReport;
  readonly examples: readonly EvaluationExample[];
  readonly predictions: readonly Prediction[];
}

/**
 * Scores an exported student on a dataset split with the `predict` task only (the rationale is
 * not needed to score labels), using the pipeline's own evaluator for the dataset's metric, and
 * keeps each prediction (the evaluate stage's confusion matrix and example predictions).
 */
export async function scoreStudent(request: EvaluateStudentRequest): Promise<ScoredStudent> {
  const { registry } = request;
  const set = await readEvaluationExamples(request, registry);
  const student = await loadStudent(request.model, request.student);
  try {
    const dependencies = standalonePluginDependencies({
      baseDirectory: request.baseDirectory ?? process.cwd(),
      environment: request.environment ?? process.env,
    });
    const evaluator = await createEvaluator(registry, set.metric, dependencies);
    const started = performance.now();
    const predictions: Prediction[] = [];
    const chunk = 64;
    for (let start = 0; start < set.examples.length; start += chunk) {
      const batch = await student.predict(
        set.examples.slice(start, start + chunk).map((example) => example.input),
        request.scoreLabels ? { scoreLabels: true, ...(request.labels ? { labels: request.labels } : {}) } : {},
      );
      predictions.push(...batch);
      request.onProgress?.(predictions.length, set.examples.length);
    }
    const score = scorePredictions(
      evaluator,
      predictions.map((prediction) => prediction.label),
      set.examples,
    );
    const report = {
      ...score,
      model: student.directory,
      dataset: set.description,
      precision: student.precision,
      seconds: (performance.now() - started) / 1000,
    };
    return { report, examples: set.examples, predictions };
  } finally {
    await student.close();
  }
}

/** {@link scoreStudent}'s report alone: what `distill eval` prints. */
export async function evaluateStudent(request: EvaluateStudentRequest): Promise<EvaluationReport> {
  return (await scoreStudent(request)).report;
}
