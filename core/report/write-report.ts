import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderHtmlReport, renderMarkdownReport, reportCharts } from './render-report.js';
import type { RunSummary } from './run-summary.js';

/** Where a report was written. */
export interface WrittenReport {
  readonly markdown: string;
  readonly html: string;
  readonly summary: string;
}

/**
 * Writes `report.md` (charts as SVG files beside it), `report.html` (self-contained) and
 * `summary.json` (the numbers behind both) into a folder.
 */
export function writeReport(directory: string, summary: RunSummary): WrittenReport {
  mkdirSync(path.join(directory, 'charts'), { recursive: true });
  const chartFiles = reportCharts(summary).map((chart, index) => {
    const file = path.join('charts', `${index + 1}-${chart.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.svg`);
    writeFileSync(path.join(directory, file), chart.svg + '\n');
    return file;
  });
  const written = {
    markdown: path.join(directory, 'report.md'),
    html: path.join(directory, 'report.html'),
    summary: path.join(directory, 'summary.json'),
  };
  writeFileSync(written.markdown, renderMarkdownReport(summary, chartFiles));
  writeFileSync(written.html, renderHtmlReport(summary));
  writeFileSync(written.summary, JSON.stringify(summary, null, 2) + '\n');
  return written;
}
