import type { RunSummary } from './run-summary.js';
import { reportTables, sweepSeries, type Table } from './report-tables.js';
import { svgLineChart } from './svg-line-chart.js';

function escapeHtml(text: string): string {
  return text.replace(/[<>&"]/g, (character) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[character]!);
}

/** The report's charts as SVG strings: loss curves, then sweep figures like the papers'. */
export function reportCharts(summary: RunSummary): { title: string; svg: string }[] {
  const charts: { title: string; svg: string }[] = [];
  if (summary.student && summary.student.lossCurves.some((series) => series.points.length > 0)) {
    charts.push({
      title: 'Training loss',
      svg: svgLineChart(summary.student.lossCurves, { title: 'Training loss', xLabel: 'step', yLabel: 'loss' }),
    });
  }
  for (const axis of ['dataFraction', 'rationaleRate'] as const) {
    const { series, errors } = sweepSeries(summary.sweep, axis);
    if (series.length === 0) continue;
    const title = axis === 'dataFraction' ? 'Test accuracy against data fraction' : 'Test accuracy against rationale rate';
    const xLabel = axis === 'dataFraction' ? 'training data (%)' : 'rationale rate r';
    charts.push({ title, svg: svgLineChart(series, { title, xLabel, yLabel: 'test accuracy (%)', errors }) });
  }
  return charts;
}

function markdownTable(table: Table): string {
  const line = (cells: readonly string[]) => `| ${cells.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [`## ${table.title}`, '', line(table.header), line(table.header.map(() => '---')), ...table.rows.map(line), ''].join('\n');
}

/** The report as Markdown; charts are linked as the SVG files written beside it. */
export function renderMarkdownReport(summary: RunSummary, chartFiles: readonly string[] = []): string {
  const parts = [`# distill report: ${summary.pipeline}`, ''];
  if (summary.description) parts.push(summary.description, '');
  parts.push(`Created ${summary.createdAt}.`, '');
  for (const table of reportTables(summary)) parts.push(markdownTable(table));
  if (chartFiles.length > 0) {
    parts.push('## Charts', '');
    for (const file of chartFiles) parts.push(`![${file}](${file})`, '');
  }
  return parts.join('\n');
}

/** The report as one self-contained HTML page: inline CSS and SVG, no script, nothing fetched. */
export function renderHtmlReport(summary: RunSummary): string {
  const tables = reportTables(summary)
    .map((table) => {
      const head = table.header.map((cell) => `<th>${escapeHtml(cell)}</th>`).join('');
      const rows = table.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('');
      return `<section><h2>${escapeHtml(table.title)}</h2><table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table></section>`;
    })
    .join('\n');
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
figure { margin: 1rem 0; }
figcaption { font-size: 0.85rem; color: #52525b; }
</style>
</head>
<body>
<h1>distill report: ${escapeHtml(summary.pipeline)}</h1>
${summary.description ? `<p>${escapeHtml(summary.description)}</p>` : ''}
<p>Created ${escapeHtml(summary.createdAt)}.</p>
${tables}
${charts}
</body>
</html>
`;
}
