import type { ReliabilitySummary } from './reliability.js';
import type { Table } from './report-tables.js';
import type { Series } from './run-summary.js';
import { percent } from './statistics.js';
import { svgLineChart } from './svg-line-chart.js';

const sourceNames = { votes: 'votes (self-consistency)', logprobs: 'log-probabilities', none: 'none' } as const;

/** `0.6–0.7`, the last bin closed: `0.9–1`. */
function binName(low: number, high: number): string {
  return `${Number(low.toFixed(2))}–${Number(high.toFixed(2))}`;
}

/**
 * The reliability chart: the teacher's accuracy on gold against its mean confidence in each
 * non-empty bin (each bin a point), with the diagonal where a calibrated teacher would sit. Counts are in
 * {@link reliabilityTables}, under the chart.
 */
export function reliabilityChart(reliability: ReliabilitySummary): string {
  const filled = reliability.bins.filter((bin) => bin.records > 0);
  const series: Series[] = [
    {
      name: `teacher (${reliability.binned} records)`,
      points: filled.map((bin) => ({ x: bin.meanConfidence! * 100, y: (bin.correct / bin.records) * 100 })),
    },
    {
      name: 'calibrated',
      points: [
        { x: 0, y: 0 },
        { x: 100, y: 100 },
      ],
    },
  ];
  return svgLineChart(series, {
    title: 'Teacher confidence against accuracy on gold',
    xLabel: 'teacher confidence (%), mean of each bin',
    yLabel: 'accuracy on gold (%)',
    yLimits: [0, 100],
  });
}

/** The counts behind the chart, bin by bin, and how many records have each source of confidence. */
export function reliabilityTables(reliability: ReliabilitySummary): Table[] {
  return [
    {
      title: `Teacher confidence against gold (${reliability.binned} of ${reliability.records} records have both)`,
      header: ['confidence bin', 'records', 'right', 'accuracy', 'mean confidence'],
      rows: reliability.bins.map((bin) => [
        binName(bin.low, bin.high),
        String(bin.records),
        String(bin.correct),
        bin.records > 0 ? percent(bin.correct / bin.records) : '–',
        bin.meanConfidence === null ? '–' : bin.meanConfidence.toFixed(2),
      ]),
    },
    {
      title: "Where the teacher's confidence comes from",
      header: ['source', 'records', 'share'],
      rows: reliability.sources.map((source) => [
        sourceNames[source.source],
        String(source.records),
        percent(source.records / reliability.records),
      ]),
    },
  ];
}
