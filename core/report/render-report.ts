import { comparisonTables, predictionTables } from './comparison-tables.js';
import type { RunSummary, Series, StudentSummary } from './run-summary.js';
import { calibrationChart, calibrationTables } from './calibration-report.js';
import { reliabilityChart, reliabilityTables } from './reliability-report.js';
import { reportTables, sweepSeries, type Table } from './report-tables.js';
import { exponentialMovingAverage } from './statistics.js';
import { svgLineChart } from './svg-line-chart.js';

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (character) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[character]!);
}

/** EMA weight for a curve of `count` points: a span of about a tenth of the curve (TensorBoard-like smoothing). */
function smoothingWeight(count: number): number {
  const span = Math.min(50, Math.max(1, count / 10));
  return 1 - 2 / (span + 1);
}

/** The loss chart: each loss raw and faint behind its EMA, validation accuracy on the right, the chosen checkpoint marked. */
function lossChart(student: StudentSummary): string {
  const series: Series[] = student.lossCurves.flatMap((curve, index) => {
    const smoothed = exponentialMovingAverage(
      curve.points.map((point) => point.y),
      smoothingWeight(curve.points.length),
    );
    return [
      { name: `${curve.name} (raw)`, points: curve.points, faint: true, colorIndex: index },
      {
        name: `${curve.name} loss (EMA)`,
        points: curve.points.map((point, pointIndex) => ({ x: point.x, y: smoothed[pointIndex]! })),
        colorIndex: index,
      },
    ];
  });
  const validation = student.validationCurve
    ? [{ ...student.validationCurve, points: student.validationCurve.points.map((point) => ({ x: point.x, y: point.y * 100 })) }]
    : [];
  const bestStep = student.bestStep ?? null;
  return svgLineChart(series, {
    title: 'Training loss and validation accuracy',
    xLabel: 'step',
    yLabel: 'loss',
    width: 900,
    height: 340,
    ...(validation.length > 0 ? { right: { series: validation, label: 'validation accuracy (%)', domain: [0, 100] as const } } : {}),
    ...(bestStep !== null ? { markers: [{ x: bestStep, label: `chosen checkpoint (step ${bestStep})` }] } : {}),
  });
}

/** The report's charts as SVG strings: loss curves, then sweep figures like the papers'. */
export function reportCharts(summary: RunSummary): { title: string; svg: string }[] {
  const charts: { title: string; svg: string }[] = [];
  if (summary.student && summary.student.lossCurves.some((series) => series.points.length > 0)) {
    charts.push({ title: 'Training loss', svg: lossChart(summary.student) });
  }
  for (const axis of ['dataFraction', 'rationaleRate'] as const) {
    const { series, errors } = sweepSeries(summary.sweep, axis);
    if (series.length === 0) continue;
    const title = axis === 'dataFraction' ? 'Test accuracy against data fraction' : 'Test accuracy against rationale rate';
    const xLabel = axis === 'dataFraction' ? 'training data (%)' : 'rationale rate r';
    charts.push({ title, svg: svgLineChart(series, { title, xLabel, yLabel: 'test accuracy (%)', errors, yLimits: [0, 100] }) });
  }
  if (summary.reliability) charts.push({ title: 'Teacher reliability', svg: reliabilityChart(summary.reliability) });
  if (summary.calibration) charts.push({ title: 'Student first: coverage and agreement', svg: calibrationChart(summary.calibration) });
  return charts;
}

/** The reliability tables, where the teacher's records carry confidence and gold, and the calibration table. */
function reliabilityTablesOf(summary: RunSummary): Table[] {
  return [
    ...(summary.reliability ? reliabilityTables(summary.reliability) : []),
    // Promised on validation beside achieved on test, where the evaluate stage calibrated.
    ...(summary.calibration ? calibrationTables(summary.calibration) : []),
  ];
}

/** How to use the model: its folder and the calls that run it, or nothing when there is no evaluated export. */
function usageBlocks(summary: RunSummary): { folder: string; cli: string; library: string; input: string } | null {
  const usage = summary.comparison?.usage;
  return usage ? { folder: usage.directory, cli: usage.cli, library: usage.library, input: usage.exampleInput } : null;
}

function markdownTable(table: Table): string {
  // A line break would end the table row: Markdown tables take `<br>` inside a cell.
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>')).join(' | ')} |`;
  return [`## ${table.title}`, '', line(table.header), line(table.header.map(() => '---')), ...table.rows.map(line), ''].join('\n');
}

/** The report as Markdown; charts are linked as the SVG files written beside it. */
export function renderMarkdownReport(summary: RunSummary, chartFiles: readonly string[] = []): string {
  const parts = [`# distill report: ${summary.pipeline}`, ''];
  if (summary.description) parts.push(summary.description, '');
  parts.push(`Created ${summary.createdAt}.`, '');
  for (const table of comparisonTables(summary)) parts.push(markdownTable(table));
  const usage = usageBlocks(summary);
  if (usage) {
    parts.push('## Use the model', '', `The exported student is in \`${usage.folder}\`. From the command line:`, '');
    parts.push('```sh', usage.cli, '```', '', 'From JavaScript:', '', '```js', usage.library, '```', '');
  }
  if (chartFiles.length > 0) {
    parts.push('## Charts', '');
    for (const file of chartFiles) parts.push(`![${file}](${file})`, '');
  }
  for (const table of [...predictionTables(summary), ...reportTables(summary), ...reliabilityTablesOf(summary)])
    parts.push(markdownTable(table));
  return parts.join('\n');
}

/** The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched. */
export function renderHtmlReport(summary: RunSummary): string {
  const htmlTables = (tables: readonly Table[]) =>
    tables
      .map((table) => {
        const head = table.header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('');
        const rows = table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('');
        return `<section><h2>${escapeHtml(table.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></section>`;
      })
      .join('\n');
  const usage = usageBlocks(summary);
  const usageSection = usage
    ? `<section><h2>Use the model</h2>
<p>The exported student is in <code>${escapeHtml(usage.folder)}</code>. From the command line:</p>
<pre><code>${escapeHtml(usage.cli)}</code></pre>
<p>From JavaScript:</p>
<pre><code>${escapeHtml(usage.library)}</code></pre></section>`
    : '';
  const charts = reportCharts(summary)
    .map((chart) => `<figure>${chart.svg}<figcaption>${escapeHtml(chart.title)}</figcaption></figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>distill report: ${escapeHtml(summary.pipeline)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #18181b; padding: 0 1rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #d4d4d8; padding: 0.3rem 0.6rem; text-align: left; }
th { background: #f4f4f5; }
td { white-space: pre-wrap; vertical-align: top; }
pre { background: #f4f4f5; padding: 0.6rem 0.8rem; font-size: 0.85rem; white-space: pre-wrap; overflow-wrap: anywhere; }
figure svg { max-width: 100%; height: auto; }
figure { margin: 1rem 0; }
figcaption { font-size: 0.85rem; color: #52525b; }
</style>
</head>
<body>
<h1>distill report: ${escapeHtml(summary.pipeline)}</h1>
${summary.description ? `<p>${escapeHtml(summary.description)}</p>` : ''}
<p>Created ${escapeHtml(summary.createdAt)}.</p>
${htmlTables(comparisonTables(summary))}
${usageSection}
${charts}
${htmlTables([...predictionTables(summary), ...reportTables(summary), ...reliabilityTablesOf(summary)])}
</body>
</html>
`;
}
