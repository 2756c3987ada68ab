import { scaleLinear, type ScaleLinear } from 'd3-scale';
import type { Series } from './run-summary.js';

/** A second y axis on the right, for series of another unit (validation accuracy beside a loss). */
export interface RightAxis {
  readonly series: readonly Series[];
  readonly label: string;
  /** Bounds the axis may not cross (accuracies in percent: [0, 100]). */
  readonly limits?: readonly [number, number];
}

/** A vertical line across the plot at one x, with a label (the chosen checkpoint). */
export interface ChartMarker {
  readonly x: number;
  readonly label: string;
}

/** Labels and size of a chart. */
export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  /** Draw points with error bars of this half-height per point index (sweeps over seeds). */
  readonly errors?: readonly (readonly number[])[];
  /** Bounds the y axis may not cross (accuracies in percent: [0, 100]), however the error bars reach. */
  readonly yLimits?: readonly [number, number];
  readonly right?: RightAxis;
  readonly markers?: readonly ChartMarker[];
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** Colour of validation curves on the right axis: apart from the loss colours. */
const rightColor = '#0f766e';

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * A linear scale over the values, its domain widened to round numbers by d3-scale (so that ticks
 * fall on 0, 100, 200, never 300.8), then kept within `limits`. A single value gets room around it.
 */
export function niceScale(
  values: readonly number[],
  range: readonly [number, number],
  limits?: readonly [number, number],
): ScaleLinear<number, number> {
  let low = values.length > 0 ? Math.min(...values) : 0;
  let high = values.length > 0 ? Math.max(...values) : 1;
  if (low === high) {
    const room = Math.abs(low) > 0 ? Math.abs(low) * 0.1 : 1;
    low -= room;
    high += room;
  }
  const scale = scaleLinear().domain([low, high]).nice(5);
  if (limits) {
    const [niceLow, niceHigh] = scale.domain() as [number, number];
    scale.domain([Math.max(limits[0], niceLow), Math.min(limits[1], niceHigh)]);
  }
  return scale.range([range[0], range[1]]);
}

function seriesPath(series: Series, x: (value: number) => number, y: (value: number) => number): string {
  return series.points.map((point, index) => `${index === 0 ? 'M' : 'L'}${x(point.x).toFixed(1)},${y(point.y).toFixed(1)}`).join(' ');
}

/**
 * A self-contained SVG line chart: no script, no external font or stylesheet, so the report page
 * renders offline and the same markup can be embedded in Markdown viewers that allow SVG. Scales and
 * ticks come from d3-scale; a `faint` series is drawn thin and pale behind the others and left out of
 * the legend (the raw curve behind its smoothed one).
 */
export function svgLineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const margin = { top: 32, right: options.right ? 56 : 16, bottom: 44, left: 56 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const rightSeries = options.right?.series ?? [];
  const points = series.flatMap((each) => each.points);
  const errors = series.flatMap((each, seriesIndex) =>
    each.points.flatMap((point, index) => {
      const error = options.errors?.[seriesIndex]?.[index] ?? 0;
      return [point.y - error, point.y + error];
    }),
  );
  const xs = [...points, ...rightSeries.flatMap((each) => each.points)].map((point) => point.x);
  const x = niceScale(xs, [margin.left, margin.left + plotWidth]);
  const y = niceScale([...points.map((point) => point.y), ...errors], [margin.top + plotHeight, margin.top], options.yLimits);
  const yRight = options.right
    ? niceScale(
        rightSeries.flatMap((each) => each.points.map((point) => point.y)),
        [margin.top + plotHeight, margin.top],
        options.right.limits,
      )
    : null;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" font-family="system-ui, sans-serif" font-size="11">`,
  );
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(options.title)}</text>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#d4d4d8"/>`);
  const yFormat = y.tickFormat(5);
  for (const tick of y.ticks(5)) {
    const position = y(tick).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${position}" y2="${position}" stroke="#f4f4f5"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${position}" text-anchor="end" dominant-baseline="middle">${yFormat(tick)}</text>`);
  }
  if (yRight) {
    const rightFormat = yRight.tickFormat(5);
    for (const tick of yRight.ticks(5)) {
      parts.push(
        `<text x="${margin.left + plotWidth + 6}" y="${yRight(tick).toFixed(1)}" dominant-baseline="middle" fill="${rightColor}">${rightFormat(tick)}</text>`,
      );
    }
    parts.push(
      `<text transform="translate(${width - 12} ${margin.top + plotHeight / 2}) rotate(90)" text-anchor="middle" fill="${rightColor}">${escapeXml(options.right!.label)}</text>`,
    );
  }
  const xFormat = x.tickFormat(6);
  for (const tick of x.ticks(6)) {
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${xFormat(tick)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  for (const marker of options.markers ?? []) {
    const position = x(marker.x).toFixed(1);
    parts.push(
      `<line x1="${position}" x2="${position}" y1="${margin.top}" y2="${margin.top + plotHeight}" stroke="#52525b" stroke-dasharray="4 3"/>`,
    );
    parts.push(
      `<text x="${Number(position) - 4}" y="${margin.top + plotHeight - 6}" text-anchor="end" fill="#52525b">${escapeXml(marker.label)}</text>`,
    );
  }
  const legend: { name: string; color: string; dashed: boolean }[] = [];
  // Faint series first, so that the curves they stand behind are drawn over them.
  const ordered = series
    .map((each, index) => ({ each, index }))
    .sort((left, right) => Number(!!right.each.faint) - Number(!!left.each.faint));
  for (const { each, index } of ordered) {
    const color = palette[(each.colorIndex ?? index) % palette.length]!;
    if (each.points.length > 1) {
      parts.push(
        each.faint
          ? `<path d="${seriesPath(each, x, y)}" fill="none" stroke="${color}" stroke-opacity="0.25" stroke-width="1"/>`
          : `<path d="${seriesPath(each, x, y)}" fill="none" stroke="${color}" stroke-width="1.8"/>`,
      );
    }
    if (each.faint) continue;
    each.points.forEach((point, pointIndex) => {
      const error = options.errors?.[index]?.[pointIndex];
      const position = x(point.x).toFixed(1);
      if (error !== undefined && error > 0) {
        parts.push(
          `<line x1="${position}" x2="${position}" y1="${y(point.y - error).toFixed(1)}" y2="${y(point.y + error).toFixed(1)}" stroke="${color}"/>`,
        );
      }
      if (each.points.length <= 30) parts.push(`<circle cx="${position}" cy="${y(point.y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    });
    legend.push({ name: each.name, color, dashed: false });
  }
  if (yRight) {
    for (const each of rightSeries) {
      if (each.points.length > 1) {
        parts.push(
          `<path d="${seriesPath(each, x, yRight)}" fill="none" stroke="${rightColor}" stroke-width="1.6" stroke-dasharray="5 3"/>`,
        );
      }
      for (const point of each.points) {
        parts.push(`<circle cx="${x(point.x).toFixed(1)}" cy="${yRight(point.y).toFixed(1)}" r="3" fill="${rightColor}"/>`);
      }
      legend.push({ name: each.name, color: rightColor, dashed: true });
    }
  }
  legend.forEach((entry, index) => {
    const legendY = margin.top + 12 + index * 14;
    const left = margin.left + plotWidth - 150;
    parts.push(
      `<line x1="${left}" x2="${left + 12}" y1="${legendY}" y2="${legendY}" stroke="${entry.color}" stroke-width="2.5"${entry.dashed ? ' stroke-dasharray="4 2"' : ''}/>`,
    );
    parts.push(`<text x="${left + 16}" y="${legendY}" dominant-baseline="middle">${escapeXml(entry.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
