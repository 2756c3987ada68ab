import path from 'node:path';
import { writeFileNoFollow } from '../files/no-follow-files.js';
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
 * `summary.json` (the numbers behind both) into a folder, never through a link and with every
 * registered secret redacted (a description may have been filled from a key).
 */
export function writeReport(directory: string, summary: RunSummary): WrittenReport {
  const chartFiles = reportCharts(summary).map((chart, index) => {
    const file = path.join('charts', `${index + 1}-${chart.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.svg`);
    writeFileNoFollow(path.join(directory, file), chart.svg + '\n');
    return file;
  });
  const written = {
    markdown: path.join(directory, 'report.md'),
    html: path.join(directory, 'report.html'),
    summary: path.join(directory, 'summary.json'),
  };
  writeFileNoFollow(written.markdown, renderMarkdownReport(summary, chartFiles));
  writeFileNoFollow(written.html, renderHtmlReport(summary));
  writeFileNoFollow(written.summary, JSON.stringify(summary, null, 2) + '\n');
  return written;
}
