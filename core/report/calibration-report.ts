import type { CalibrationFile } from '../calibration/calibration-file.js';
import type { OperatingPoint } from '../calibration/thresholds.js';
import type { Table } from './report-tables.js';
import type { Series } from './run-summary.js';
import { percent } from './statistics.js';
import { svgLineChart } from './svg-line-chart.js';

/** What the report shows of a calibration: the file written and the validation curve behind it. */
export interface CalibrationSummary {
  readonly calibration: CalibrationFile;
  /** Coverage, agreement and its lower bound at each validation threshold, highest threshold first. */
  readonly curve: readonly OperatingPoint[];
  /** Why there is no test part, when there is none. */
  readonly testMissing: string | null;
}

/** Points drawn per curve at most: a validation split of thousands draws the same line with fewer. */
const maximumPoints = 200;

/** Every n-th point, the first and last kept, so that an SVG stays small. */
function thinned<T>(points: readonly T[]): T[] {
  if (points.length <= maximumPoints) return [...points];
  const step = (points.length - 1) / (maximumPoints - 1);
  return Array.from({ length: maximumPoints }, (_, index) => points[Math.round(index * step)]!);
}

/**
 * The coverage/agreement curve: for each validation threshold, the share the student answers (x)
 * against the combined system's agreement and its lower bound (y), with what each target's threshold
 * achieved on test as points, and a marker at each target's promised coverage.
 */
export function calibrationChart(summary: CalibrationSummary): string {
  const { calibration, curve } = summary;
  const points = thinned(curve);
  const reference = calibration.against === 'teacher' ? 'the teacher' : 'gold';
  const series: Series[] = [
    { name: 'agreement on validation', points: points.map((point) => ({ x: point.coverage * 100, y: point.agreement * 100 })) },
    {
      name: `lower bound (${calibration.bound.level * 100}%)`,
      points: points.map((point) => ({ x: point.coverage * 100, y: point.agreementLowerBound * 100 })),
    },
  ];
  if (calibration.test && calibration.test.length > 0) {
    series.push({
      name: 'achieved on test',
      points: [...calibration.test]
        .sort((left, right) => left.coverage - right.coverage)
        .map((point) => ({ x: point.coverage * 100, y: point.agreement * 100 })),
    });
  }
  return svgLineChart(series, {
    title: `Student first: agreement with ${reference} against the share the student answers`,
    xLabel: 'coverage: share the student answers (%)',
    yLabel: `agreement with ${reference} (%)`,
    yLimits: [0, 100],
    width: 900,
    markerLabels: 'bottom',
    markers: calibration.thresholds
      .filter((entry) => entry.threshold !== null)
      .map((entry) => ({ x: entry.expected_coverage * 100, label: `target ${percent(entry.target)}` })),
  });
}

/** Per target: the threshold, what validation promised, and what test achieved, side by side. */
export function calibrationTables(summary: CalibrationSummary): Table[] {
  const { calibration } = summary;
  const kind = calibration.confidence === 'label-probability' ? 'label probability' : 'mean token log-probability';
  const rows = calibration.thresholds.map((entry) => {
    const test = calibration.test?.find((point) => point.target === entry.target);
    return [
      percent(entry.target),
      entry.threshold === null ? 'none reaches it' : entry.threshold.toFixed(4),
      percent(entry.expected_coverage),
      entry.validation_agreement === null ? '–' : percent(entry.validation_agreement),
      entry.agreement_lower_bound === null ? '–' : percent(entry.agreement_lower_bound),
      test ? percent(test.coverage) : '–',
      test ? percent(test.agreement) : '–',
    ];
  });
  return [
    {
      title:
        `Calibration against ${calibration.against} (${calibration.examples} validation examples, ${kind}, ` +
        `Clopper–Pearson ${calibration.bound.level * 100}% lower bound)` +
        (summary.testMissing ? `; test not scored: ${summary.testMissing}` : `; test: ${calibration.test?.[0]?.examples ?? 0} examples`),
      header: ['target', 'threshold', 'promised coverage', 'validation agreement', 'lower bound', 'test coverage', 'test agreement'],
      rows,
    },
  ];
}
