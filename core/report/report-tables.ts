import type { RunSummary, Series, SweepPoint } from './run-summary.js';
import { formatBytes, mean, percent, standardDeviation } from './statistics.js';

/** A table as header + rows of cells, rendered to Markdown or HTML by the caller. */
export interface Table {
  readonly title: string;
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** `41.3% ± 1.2` over seeds. */
export function meanAndSpread(values: readonly number[]): string {
  if (values.length === 0) return '–';
  const spread = standardDeviation(values);
  return values.length > 1 ? `${percent(mean(values))} ± ${(spread * 100).toFixed(1)}` : percent(mean(values));
}

/** The sweep's points with their mean accuracy over seeds. */
function sweepTable(points: readonly SweepPoint[]): Table {
  // The min-confidence column only where some point dropped examples for their confidence.
  const confidence = points.some((point) => (point.minConfidence ?? 0) > 0);
  return {
    title: 'Sweep (test accuracy, mean ± standard deviation over seeds)',
    header: ['mode', 'data fraction', 'rationale rate', 'α', ...(confidence ? ['min confidence'] : []), 'seeds', 'accuracy'],
    rows: points.map((point) => [
      point.mode,
      percent(point.dataFraction, 1),
      String(point.rationaleRate),
      point.alpha === null ? "the loss's" : String(point.alpha),
      ...(confidence ? [String(point.minConfidence ?? 0)] : []),
      String(point.accuracies.length),
      meanAndSpread(point.accuracies),
    ]),
  };
}

/** The report's tables about training, in order: teacher, student, sweep, stages. */
export function reportTables(summary: RunSummary): Table[] {
  const tables: Table[] = [];
  const { teacher, student } = summary;
  if (teacher) {
    tables.push({
      title: 'Teacher (its training answers)',
      header: [
        'provider / model',
        'examples',
        'agreement with gold',
        'explanation rate',
        'unparsed',
        'failed',
        'prompt tokens',
        'completion tokens',
        'dollars',
      ],
      rows: [
        [
          `${teacher.provider} / ${teacher.model}`,
          String(teacher.examples),
          percent(teacher.accuracy),
          percent(teacher.explanationRate),
          String(teacher.unparsed),
          String(teacher.failed),
          String(teacher.promptTokens),
          String(teacher.completionTokens),
          `$${teacher.dollars.toFixed(4)}`,
        ],
      ],
    });
  }
  if (student) {
    tables.push({
      title: 'Student',
      header: [
        'steps',
        'validation accuracy',
        'test accuracy (PyTorch)',
        'test accuracy (exported)',
        'exported scored by',
        'test accuracy (int8)',
        'majority class',
        'size on disk',
        'latency p50 (batch 1)',
      ],
      rows: [
        [
          String(student.steps),
          percent(student.validationAccuracy),
          // The trainer may score only the first N test examples (test_limit); the exported model scores them all.
          student.testExamples !== null && student.exportedTestExamples !== null && student.testExamples < student.exportedTestExamples
            ? `${percent(student.testAccuracy)} (first ${student.testExamples})`
            : percent(student.testAccuracy),
          percent(student.exportedTestAccuracy),
          student.exportedEvaluation ?? '–',
          percent(student.quantizedTestAccuracy),
          percent(student.majorityClassAccuracy),
          formatBytes(student.exportedBytes),
          student.latencyMilliseconds === null ? '–' : `${student.latencyMilliseconds.toFixed(1)} ms`,
        ],
      ],
    });
  }
  if (summary.sweep.length > 0) tables.push(sweepTable(summary.sweep));
  tables.push({ title: 'Stages', header: ['stage', 'this run'], rows: summary.stages.map((stage) => [stage.stage, stage.status]) });
  return tables;
}

/** Series of mean accuracy against one sweep axis, one series per mode (and other axis value). */
export function sweepSeries(
  points: readonly SweepPoint[],
  axis: 'dataFraction' | 'rationaleRate',
): { series: Series[]; errors: number[][] } {
  const groups = new Map<string, SweepPoint[]>();
  for (const point of points) {
    const other = axis === 'dataFraction' ? `r=${point.rationaleRate}` : `${percent(point.dataFraction, 0)} data`;
    const key = `${point.mode}, ${other}`;
    groups.set(key, [...(groups.get(key) ?? []), point]);
  }
  const series: Series[] = [];
  const errors: number[][] = [];
  for (const [name, members] of groups) {
    const sorted = [...members].sort((left, right) => left[axis] - right[axis]);
    if (new Set(sorted.map((point) => point[axis])).size < 2) continue;
    series.push({
      name,
      points: sorted.map((point) => ({ x: point[axis] * (axis === 'dataFraction' ? 100 : 1), y: mean(point.accuracies) * 100 })),
    });
    errors.push(sorted.map((point) => standardDeviation(point.accuracies) * 100));
  }
  return { series, errors };
}
