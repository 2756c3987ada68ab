import type { EvaluateStageOutput } from '../runner/stage-outputs.js';
import type { TeacherReport } from '../teacher/teacher-report.js';
import type { ComparisonSummary, StudentCost, TeacherCost } from './run-summary.js';
import { modelUsage } from './usage-snippets.js';

/** Dollars for one CPU core for an hour when the pipeline names no `evaluation.cpu_price_per_hour` (the schema's default). */
export const defaultCpuPricePerHour = 0.05;

/** What {@link comparisonSummary} reads: the stored outputs of the teacher, export and evaluate stages. */
export interface ComparisonSources {
  readonly evaluated: EvaluateStageOutput;
  /** The teacher stage's report (its training answers), when it ran. */
  readonly training: TeacherReport | null;
  /** The exported student's folder. */
  readonly modelDirectory: string;
  /** `evaluation.cpu_price_per_hour`: dollars for one CPU core for an hour. */
  readonly cpuPricePerHour: number;
}

/** Tokens and list price of 1,000 of a teach report's answers (means over answered records). */
function teacherCost(report: TeacherReport, measuredOn: TeacherCost['measuredOn']): TeacherCost {
  return {
    provider: report.teacher.provider,
    model: report.teacher.model,
    measuredOn,
    answers: report.parsed + report.unparsed,
    promptTokensPerThousand: report.per_example.prompt_tokens * 1000,
    completionTokensPerThousand: report.per_example.completion_tokens * 1000,
    dollarsPerThousand: report.price ? report.per_example.list_price_usd * 1000 : null,
    priceKey: report.price?.key ?? null,
  };
}

/** CPU seconds and dollars of 1,000 predictions at the evaluate stage's measured rate. */
function studentCost(serving: NonNullable<EvaluateStageOutput['serving']>, cpuPricePerHour: number): StudentCost | null {
  if (serving.predictions === 0) return null;
  const cpuSecondsPerThousand = (serving.cpuSeconds / serving.predictions) * 1000;
  return {
    cpuSecondsPerThousand,
    threads: serving.threads,
    predictions: serving.predictions,
    cpuPricePerHour,
    dollarsPerThousand: (cpuSecondsPerThousand / 3600) * cpuPricePerHour,
  };
}

/**
 * Teacher and student on the same test examples, from the evaluate stage's output. Where the teacher
 * was not asked on the test split, its accuracy there is null and its agreement with gold on its
 * training answers is given instead, for the report to label as such; its cost then comes from the
 * training answers too.
 */
export function comparisonSummary(sources: ComparisonSources): ComparisonSummary {
  const { evaluated, training } = sources;
  const onTest = evaluated.teacherOnTest ?? null;
  const costReport = onTest?.report ?? training;
  const firstInput = evaluated.examplePredictions?.[0]?.input;
  return {
    testExamples: evaluated.examples,
    studentAccuracy: evaluated.accuracy,
    studentEvaluation: `${evaluated.decoding === 'label-scoring' ? 'label scoring' : 'free generation'}, ${evaluated.precision ?? 'fp32'}`,
    teacherAccuracy: onTest?.accuracy ?? null,
    teacherTrainingAccuracy: onTest ? null : (training?.accuracy ?? null),
    teacherTrainingExamples: onTest ? null : (training?.examples_with_gold ?? null),
    teacherCost: costReport ? teacherCost(costReport, onTest ? 'test' : 'training') : null,
    studentCost: evaluated.serving ? studentCost(evaluated.serving, sources.cpuPricePerHour) : null,
    latency: {
      ...evaluated.latencyMilliseconds,
      threads: evaluated.serving?.threads ?? null,
      predictions: evaluated.serving?.predictions ?? null,
    },
    confusion: evaluated.confusion ?? null,
    examples: evaluated.examplePredictions ?? [],
    usage:
      firstInput === undefined
        ? null
        : modelUsage(sources.modelDirectory, firstInput, {
            scoreLabels: evaluated.decoding === 'label-scoring',
            precision: evaluated.precision ?? 'fp32',
            labels: evaluated.scoredLabels ?? null,
          }),
  };
}
