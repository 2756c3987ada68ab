import { scaleLinear, type ScaleLinear } from 'd3-scale';
import type { Series } from './run-summary.js';

/** A second y axis on the right, for series of another unit (validation accuracy beside a loss). */
export interface RightAxis {
  readonly series: readonly Series[];
  readonly label: string;
  /** The axis' whole range, whatever the values (accuracies in percent: [0, 100], so that 0% reads as 0%). */
  readonly domain: readonly [number, number];
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
  /**
   * Where marker labels go: `top` of the plot (default: loss curves run low by the end of training)
   * or `bottom` (curves that run high, such as agreements).
   */
  readonly markerLabels?: 'top' | 'bottom';
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

/** Legend entries side by side under the plot. */
const legendColumns = 3;

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

/** The chart's size, plot area and scales, as every part of the drawing needs them. */
interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly top: number;
  readonly plotWidth: number;
  readonly plotHeight: number;
  readonly x: ScaleLinear<number, number>;
  readonly y: ScaleLinear<number, number>;
  readonly yRight: ScaleLinear<number, number> | null;
}

/** One legend entry. */
interface LegendEntry {
  readonly name: string;
  readonly color: string;
  readonly dashed: boolean;
}

/** Size and scales: the legend's rows under the plot make the chart taller, never the plot smaller. */
function frameOf(series: readonly Series[], options: ChartOptions): Frame {
  const width = options.width ?? 560;
  const rightSeries = options.right?.series ?? [];
  const legendRows = Math.ceil((series.filter((each) => !each.faint).length + rightSeries.length) / legendColumns);
  const height = (options.height ?? 300) + legendRows * 16;
  const margin = { top: 32, right: options.right ? 56 : 16, bottom: 48 + legendRows * 16, left: 56 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = series.flatMap((each) => each.points);
  const errors = series.flatMap((each, seriesIndex) =>
    each.points.flatMap((point, index) => {
      const error = options.errors?.[seriesIndex]?.[index] ?? 0;
      return [point.y - error, point.y + error];
    }),
  );
  const xs = [...points, ...rightSeries.flatMap((each) => each.points)].map((point) => point.x);
  const bottom = margin.top + plotHeight;
  return {
    width,
    height,
    left: margin.left,
    top: margin.top,
    plotWidth,
    plotHeight,
    x: niceScale(xs, [margin.left, margin.left + plotWidth]),
    y: niceScale([...points.map((point) => point.y), ...errors], [bottom, margin.top], options.yLimits),
    yRight: options.right
      ? scaleLinear()
          .domain([...options.right.domain])
          .range([bottom, margin.top])
      : null,
  };
}

/** Grid lines, tick labels and axis labels. */
function axesMarkup(frame: Frame, options: ChartOptions): string[] {
  const { x, y, yRight, left, top, plotWidth, plotHeight } = frame;
  const parts: string[] = [];
  const yFormat = y.tickFormat(5);
  for (const tick of y.ticks(5)) {
    const position = y(tick).toFixed(1);
    parts.push(`<line x1="${left}" x2="${left + plotWidth}" y1="${position}" y2="${position}" stroke="#f4f4f5"/>`);
    parts.push(`<text x="${left - 6}" y="${position}" text-anchor="end" dominant-baseline="middle">${yFormat(tick)}</text>`);
  }
  if (yRight && options.right) {
    const rightFormat = yRight.tickFormat(5);
    for (const tick of yRight.ticks(5)) {
      parts.push(
        `<text x="${left + plotWidth + 6}" y="${yRight(tick).toFixed(1)}" dominant-baseline="middle" fill="${rightColor}">${rightFormat(tick)}</text>`,
      );
    }
    parts.push(
      `<text transform="translate(${frame.width - 12} ${top + plotHeight / 2}) rotate(90)" text-anchor="middle" fill="${rightColor}">${escapeXml(options.right.label)}</text>`,
    );
  }
  const xFormat = x.tickFormat(6);
  for (const tick of x.ticks(6)) {
    parts.push(`<text x="${x(tick).toFixed(1)}" y="${top + plotHeight + 16}" text-anchor="middle">${xFormat(tick)}</text>`);
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${top + plotHeight + 34}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  parts.push(...markerMarkup(frame, options));
  return parts;
}

/** Width of a label in the chart's 11 px font, estimated: enough to keep labels apart. */
function labelWidth(label: string): number {
  return label.length * 6.2;
}

/**
 * Each marker's dashed line and its label, left of the line (right of it where the left would leave
 * the plot). Labels that would overlap go on further rows, so close markers stay readable.
 */
function markerMarkup(frame: Frame, options: ChartOptions): string[] {
  const { x, left, top, plotHeight } = frame;
  const parts: string[] = [];
  const rowEnds: number[] = [];
  const markers = [...(options.markers ?? [])].sort((first, second) => first.x - second.x);
  for (const marker of markers) {
    const position = x(marker.x);
    parts.push(
      `<line x1="${position.toFixed(1)}" x2="${position.toFixed(1)}" y1="${top}" y2="${top + plotHeight}" stroke="#52525b" stroke-dasharray="4 3"/>`,
    );
    const width = labelWidth(marker.label);
    const onLeft = position - 4 - width >= left;
    const start = onLeft ? position - 4 - width : position + 4;
    let row = rowEnds.findIndex((end) => start > end + 4);
    if (row === -1) row = rowEnds.length;
    rowEnds[row] = start + width;
    const baseline = options.markerLabels === 'bottom' ? top + plotHeight - 6 - row * 13 : top + 12 + row * 13;
    parts.push(
      `<text x="${(onLeft ? position - 4 : position + 4).toFixed(1)}" y="${baseline}" text-anchor="${onLeft ? 'end' : 'start'}" fill="#52525b">${escapeXml(marker.label)}</text>`,
    );
  }
  return parts;
}

/** The left axis' series (faint ones first, under the rest) with error bars and points, and their legend entries. */
function seriesMarkup(frame: Frame, series: readonly Series[], options: ChartOptions): { parts: string[]; legend: LegendEntry[] } {
  const { x, y } = frame;
  const parts: string[] = [];
  const legend: LegendEntry[] = [];
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
  const yRight = frame.yRight;
  for (const each of yRight ? (options.right?.series ?? []) : []) {
    if (each.points.length > 1) {
      parts.push(
        `<path d="${seriesPath(each, x, yRight!)}" fill="none" stroke="${rightColor}" stroke-width="1.6" stroke-dasharray="5 3"/>`,
      );
    }
    for (const point of each.points) {
      parts.push(`<circle cx="${x(point.x).toFixed(1)}" cy="${yRight!(point.y).toFixed(1)}" r="3" fill="${rightColor}"/>`);
    }
    legend.push({ name: each.name, color: rightColor, dashed: true });
  }
  return { parts, legend };
}

/** The legend, in rows of {@link legendColumns} under the plot. */
function legendMarkup(frame: Frame, legend: readonly LegendEntry[]): string[] {
  return legend.flatMap((entry, index) => {
    const legendY = frame.top + frame.plotHeight + 54 + Math.floor(index / legendColumns) * 16;
    const left = frame.left + (index % legendColumns) * (frame.plotWidth / legendColumns);
    return [
      `<line x1="${left}" x2="${left + 12}" y1="${legendY}" y2="${legendY}" stroke="${entry.color}" stroke-width="2.5"${entry.dashed ? ' stroke-dasharray="4 2"' : ''}/>`,
      `<text x="${left + 16}" y="${legendY}" dominant-baseline="middle">${escapeXml(entry.name)}</text>`,
    ];
  });
}

/**
 * A self-contained SVG line chart: no script, no external font or stylesheet, so the report page
 * renders offline and the same markup can be embedded in Markdown viewers that allow SVG. Scales and
 * ticks come from d3-scale; a `faint` series is drawn thin and pale behind the others and left out of
 * the legend (the raw curve behind its smoothed one).
 */
export function svgLineChart(series: readonly Series[], options: ChartOptions): string {
  const frame = frameOf(series, options);
  const { width, height } = frame;
  const drawn = seriesMarkup(frame, series, options);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" font-family="system-ui, sans-serif" font-size="11">`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(options.title)}</text>`,
    `<rect x="${frame.left}" y="${frame.top}" width="${frame.plotWidth}" height="${frame.plotHeight}" fill="none" stroke="#d4d4d8"/>`,
    ...axesMarkup(frame, options),
    ...drawn.parts,
    ...legendMarkup(frame, drawn.legend),
    '</svg>',
  ].join('');
}
