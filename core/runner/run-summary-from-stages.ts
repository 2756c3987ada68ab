import { existsSync, readFileSync } from 'node:fs';
import type { LoadedPipeline } from '../config/load-pipeline.js';
import { comparisonSummary, defaultCpuPricePerHour } from '../report/comparison-summary.js';
import type { RunSummary, Series, StudentSummary, TeacherSummary } from '../report/run-summary.js';
import type { TeacherReport } from '../teacher/teacher-report.js';
import type { StageOutcomes } from './run-stages.js';

/** Loss curves (total, label, rationale) from the trainer's per-step metrics file. */
export function lossCurves(metricsFile: string | undefined): Series[] {
  const curves: Record<'loss' | 'label_loss' | 'rationale_loss', { x: number; y: number }[]> = {
    loss: [],
    label_loss: [],
    rationale_loss: [],
  };
  if (!metricsFile || !existsSync(metricsFile)) return [];
  for (const line of readFileSync(metricsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.type !== undefined && entry.type !== 'progress') continue;
    if (typeof entry.step !== 'number') continue;
    for (const key of Object.keys(curves) as (keyof typeof curves)[]) {
      const value = entry[key];
      if (typeof value === 'number' && Number.isFinite(value)) curves[key].push({ x: entry.step, y: value });
    }
  }
  const names = { loss: 'total', label_loss: 'label', rationale_loss: 'rationale' } as const;
  return (Object.keys(curves) as (keyof typeof curves)[])
    .filter((key) => curves[key].length > 0)
    .map((key) => ({ name: names[key], points: curves[key] }));
}

/** Validation accuracy (0..1) at each of the trainer's evaluations, from the same metrics file; null without any. */
export function validationCurve(metricsFile: string | undefined): Series | null {
  if (!metricsFile || !existsSync(metricsFile)) return null;
  const points: { x: number; y: number }[] = [];
  for (const line of readFileSync(metricsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const entry = JSON.parse(line) as Record<string, unknown>;
    if (entry.type !== 'evaluation' || entry.split !== 'validation') continue;
    if (typeof entry.step === 'number' && typeof entry.accuracy === 'number') points.push({ x: entry.step, y: entry.accuracy });
  }
  return points.length > 0 ? { name: 'validation accuracy', points } : null;
}

function teacherSummary(report: TeacherReport): TeacherSummary {
  return {
    provider: report.teacher.provider,
    model: report.teacher.model,
    examples: report.records,
    accuracy: report.accuracy,
    explanationRate: report.explanation_rate ?? 0,
    unparsed: report.unparsed,
    failed: report.failed,
    promptTokens: report.prompt_tokens,
    completionTokens: report.completion_tokens,
    dollars: report.cost_usd,
  };
}

/**
 * The report's view of one run, read from its stage records.
 *
 * @param modelDirectory - the run's stable `model/` folder, named in the report's usage snippets; absent: the
 *   export stage's own folder.
 */
export function runSummaryFromStages(loaded: LoadedPipeline, outcomes: StageOutcomes, modelDirectory?: string): RunSummary {
  const dataset = outcomes.of('dataset')?.record.output;
  const teacher = outcomes.of('teacher')?.record.output;
  const trained = outcomes.of('trainer')?.record.output;
  const exported = outcomes.of('export')?.record.output;
  const evaluated = outcomes.of('evaluate')?.record.output;
  const student: StudentSummary | null = trained
    ? {
        steps: trained.steps,
        validationAccuracy: trained.validationAccuracy,
        testAccuracy: trained.testAccuracy,
        testExamples: trained.testExamples ?? null,
        exportedTestExamples: evaluated?.examples ?? null,
        exportedTestAccuracy: evaluated?.accuracy ?? null,
        exportedEvaluation: evaluated
          ? `${evaluated.decoding === 'label-scoring' ? 'label scoring' : 'free generation'}, ${evaluated.precision ?? 'fp32'}`
          : null,
        quantizedTestAccuracy: exported?.quantization?.quantizedAccuracy ?? null,
        majorityClassAccuracy: dataset?.majorityClass?.share ?? null,
        exportedBytes: exported?.bytes ?? null,
        latencyMilliseconds: evaluated?.latencyMilliseconds.p50 ?? null,
        lossCurves: lossCurves(trained.metricsFile),
        validationCurve: validationCurve(trained.metricsFile),
        bestStep: trained.bestStep ?? null,
      }
    : null;
  const comparison =
    evaluated && exported
      ? comparisonSummary({
          evaluated,
          training: teacher ?? null,
          // The run's stable `model/` folder where the run made one: it stays valid after a rerun with other options.
          modelDirectory: modelDirectory ?? exported.directory,
          cpuPricePerHour: loaded.config.evaluation?.cpu_price_per_hour ?? defaultCpuPricePerHour,
        })
      : null;
  return {
    pipeline: loaded.config.name,
    description: loaded.config.description,
    createdAt: new Date().toISOString(),
    teacher: teacher ? teacherSummary(teacher) : null,
    student,
    sweep: [],
    comparison,
    calibration: evaluated?.calibration ?? null,
    stages: outcomes.map((outcome) => ({ stage: outcome.stage, status: outcome.status })),
  };
}
