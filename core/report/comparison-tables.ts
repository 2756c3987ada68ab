import type { ComparisonSummary, RunSummary } from './run-summary.js';
import { percent } from './statistics.js';
import type { Table } from './report-tables.js';

/** `1,234` */
function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Dollars with three significant digits, so that a student's $0.0000312 is not shown as $0.0000. */
export function formatDollars(value: number): string {
  if (value === 0) return '$0';
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toPrecision(3)}`;
}

/** Teacher and student accuracy, on the same test examples where the teacher answered them, labelled otherwise. */
function accuracyTable(summary: RunSummary, comparison: ComparisonSummary): Table {
  const teacher = summary.teacher;
  const teacherName = teacher ? `${teacher.provider} / ${teacher.model}` : 'teacher';
  const sameExamples = comparison.teacherAccuracy !== null;
  const tested = `${count(comparison.testExamples)} test examples`;
  const rows: string[][] = [];
  if (sameExamples) {
    rows.push([
      'teacher',
      teacherName,
      tested,
      percent(comparison.teacherAccuracy),
      'its answers on the test split (evaluation.teacher_on_test)',
    ]);
  } else if (comparison.teacherTrainingAccuracy !== null) {
    rows.push([
      'teacher',
      teacherName,
      `${count(comparison.teacherTrainingExamples ?? 0)} training examples`,
      percent(comparison.teacherTrainingAccuracy),
      'agreement with gold on its training answers, NOT the test examples (set evaluation.teacher_on_test: true to compare on the same examples)',
    ]);
  }
  rows.push(['student', 'exported student, in Node', tested, percent(comparison.studentAccuracy), comparison.studentEvaluation]);
  if (summary.student?.majorityClassAccuracy !== null && summary.student?.majorityClassAccuracy !== undefined) {
    rows.push([
      'majority class',
      'always the most frequent gold label',
      tested,
      percent(summary.student.majorityClassAccuracy),
      'the bar to clear',
    ]);
  }
  return {
    title: sameExamples
      ? `Teacher and student on the same ${tested}`
      : 'Teacher and student (the teacher was not asked on the test examples)',
    header: ['', 'model', 'scored on', 'accuracy', 'how'],
    rows,
  };
}

/** What 1,000 predictions cost: the teacher's tokens at its price against the student's CPU time at an hourly price. */
function costTable(comparison: ComparisonSummary): Table | null {
  const { teacherCost, studentCost } = comparison;
  if (!teacherCost && !studentCost) return null;
  const rows: string[][] = [];
  if (teacherCost) {
    const tokens = `${count(teacherCost.promptTokensPerThousand)} prompt + ${count(teacherCost.completionTokensPerThousand)} completion tokens`;
    const where =
      teacherCost.measuredOn === 'test'
        ? `mean tokens of its ${count(teacherCost.answers)} answers on the test examples, × 1,000`
        : `mean tokens of its ${count(teacherCost.answers)} training answers, × 1,000`;
    const dollars =
      teacherCost.dollarsPerThousand === null
        ? `no price known for ${teacherCost.provider}/${teacherCost.model}: tokens only (a prices: entry in the pipeline gives one)`
        : `${formatDollars(teacherCost.dollarsPerThousand)} at the list price of ${teacherCost.priceKey}`;
    rows.push([`teacher (${teacherCost.provider} / ${teacherCost.model})`, tokens, dollars, where]);
  }
  if (studentCost) {
    rows.push([
      'student',
      `${studentCost.cpuSecondsPerThousand.toFixed(2)} CPU-seconds`,
      `${formatDollars(studentCost.dollarsPerThousand)} at $${studentCost.cpuPricePerHour} per CPU-core hour (evaluation.cpu_price_per_hour, an assumption)`,
      `process CPU time of ${count(studentCost.predictions)} predictions one at a time on ${studentCost.threads} thread${studentCost.threads === 1 ? '' : 's'}, × 1,000 / ${count(studentCost.predictions)}`,
    ]);
  }
  return { title: 'Cost per 1,000 predictions', header: ['', 'per 1,000 predictions', 'dollars per 1,000', 'measured as'], rows };
}

/** The student's latency at batch 1, with the threads it ran on. */
function latencyTable(comparison: ComparisonSummary): Table {
  const { latency } = comparison;
  return {
    title: 'Student latency (one prediction at a time, in Node)',
    header: ['p50', 'p95', 'batch', 'onnxruntime threads', 'predictions timed'],
    rows: [
      [
        `${latency.p50.toFixed(1)} ms`,
        `${latency.p95.toFixed(1)} ms`,
        '1',
        latency.threads === null ? '–' : String(latency.threads),
        latency.predictions === null ? '–' : String(latency.predictions),
      ],
    ],
  };
}

/** Gold (rows) against the student's answer (columns). */
function confusionTable(comparison: ComparisonSummary): Table | null {
  const { confusion } = comparison;
  if (!confusion) return null;
  return {
    title: `Student confusion matrix (rows: gold, columns: predicted; ${count(comparison.testExamples)} test examples)`,
    header: ['gold \\ predicted', ...confusion.labels],
    rows: confusion.labels.map((label, row) => [label, ...confusion.counts[row]!.map(String)]),
  };
}

/** The first test examples with every answer. */
function examplesTable(comparison: ComparisonSummary): Table | null {
  if (comparison.examples.length === 0) return null;
  return {
    title: `The first ${comparison.examples.length} test examples`,
    header: ['input', 'gold', 'student', 'teacher', 'teacher rationale'],
    rows: comparison.examples.map((example) => [
      example.input,
      example.gold,
      example.studentConfidence === null ? example.student : `${example.student} (${percent(example.studentConfidence, 0)})`,
      example.teacherAsked ? (example.teacher ?? '(no label)') : 'not asked on test',
      example.teacherRationale ?? '–',
    ]),
  };
}

/** The tables that compare teacher and student, in the report's order: accuracy, cost, latency. */
export function comparisonTables(summary: RunSummary): Table[] {
  const comparison = summary.comparison;
  if (!comparison) return [];
  return [accuracyTable(summary, comparison), costTable(comparison), latencyTable(comparison)].filter(
    (table): table is Table => table !== null,
  );
}

/** The tables of the student's answers: confusion matrix and example predictions. */
export function predictionTables(summary: RunSummary): Table[] {
  const comparison = summary.comparison;
  if (!comparison) return [];
  return [confusionTable(comparison), examplesTable(comparison)].filter((table): table is Table => table !== null);
}
