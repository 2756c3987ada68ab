import type { TeacherReport } from './teacher-report.js';

const percent = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(2)}%`);
const dollars = (value: number) => `$${value.toFixed(value < 1 ? 4 : 2)}`;

function statusLine(report: TeacherReport): string {
  if (report.stopped === 'failures') {
    return `  stopped: ${report.failed} of ${report.examples} examples failed, more than teacher.max_failure_rate allows; run again to ask them again (answers come from the cache)`;
  }
  if (report.stopped) return `  stopped: ${report.stopped} — ${report.remaining} of ${report.examples} examples left; run again to resume`;
  if (report.failed > 0)
    return `  answered ${report.records - report.failed} of ${report.examples} examples; ${report.failed} failed, within teacher.max_failure_rate; the next run asks them again`;
  return `  complete: ${report.records} of ${report.examples} examples`;
}

/** Why examples failed, one line per reason (the most frequent first, at most ten). */
export function formatTeacherFailures(report: TeacherReport): string {
  const reasons = Object.entries(report.failed_reasons);
  const lines = [
    `  failed examples  ${report.failed}, by reason:`,
    ...reasons.slice(0, 10).map(([reason, count]) => `    ${String(count).padStart(6)}× ${reason}`),
  ];
  if (reasons.length > 10) lines.push(`    … and ${reasons.length - 10} other reasons (teacher-report.json lists them all)`);
  return lines.join('\n');
}

/** The teacher report as people read it at the end of `distill teach`. */
export function formatTeacherReport(report: TeacherReport, files: { outputFile?: string; reportFile?: string } = {}): string {
  const { teacher } = report;
  const lines = [
    `teacher ${teacher.plugin}@${teacher.version} (${teacher.provider}/${teacher.model}) on ${report.splits.join(', ')}`,
    statusLine(report),
    `  accuracy         ${percent(report.accuracy)} against gold (${report.examples_with_gold} examples with gold)`,
    `  explanation rate ${percent(report.explanation_rate)}`,
    `  parsed ${report.parsed}, unparsed ${report.unparsed}, failed ${report.failed}, cached ${report.cached}`,
    `  tokens           ${report.prompt_tokens} prompt + ${report.completion_tokens} completion (${report.per_example.prompt_tokens.toFixed(1)} + ${report.per_example.completion_tokens.toFixed(1)} per example)`,
    `  cost             ${dollars(report.cost_usd)} paid (${dollars(report.cost_usd_this_run)} by this run); ${dollars(report.list_price_usd)} at list price` +
      (report.price
        ? ` (${report.price.key}, ${report.price.source} ${report.price.batch ? 'batch ' : ''}price)`
        : ' (no price known for this model)'),
  ];
  if (report.answers)
    lines.push(
      `  answers          ${report.answers.asked} asked (several per example: teacher.samples), ${report.answers.cached} from the cache`,
    );
  if (report.confidence)
    lines.push(`  confidence       mean ${report.confidence.mean.toFixed(3)} over ${report.confidence.records} examples`);
  const reasons = Object.entries(report.reasons).slice(0, 3);
  if (reasons.length > 0) lines.push(`  top reasons      ${reasons.map(([reason, count]) => `${count}× ${reason}`).join('; ')}`);
  if (report.failed > 0) lines.push(formatTeacherFailures(report));
  if (files.outputFile) lines.push(`  records          ${files.outputFile}`);
  if (files.reportFile) lines.push(`  report           ${files.reportFile}`);
  return lines.join('\n');
}
