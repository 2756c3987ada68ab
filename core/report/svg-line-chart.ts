import type { Series } from './run-summary.js';

/** Labels and size of a chart. */
export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
  /** Draw points with error bars of this half-height per point index (sweeps over seeds). */
  readonly errors?: readonly (readonly number[])[];
}

const palette = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2'];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function niceTicks(minimum: number, maximum: number, count: number): number[] {
  if (minimum === maximum) return [minimum];
  const step = (maximum - minimum) / (count - 1);
  return Array.from({ length: count }, (_, index) => minimum + step * index);
}

function formatTick(value: number): string {
  if (Math.abs(value) >= 1000) return value.toFixed(0);
  if (Math.abs(value) >= 10) return value.toFixed(1).replace(/\.0$/, '');
  return value.toPrecision(3).replace(/\.?0+$/, '');
}

/**
 * A self-contained SVG line chart: no script, no external font or stylesheet, so the report page
 * renders offline and the same markup can be embedded in Markdown viewers that allow SVG.
 */
export function svgLineChart(series: readonly Series[], options: ChartOptions): string {
  const width = options.width ?? 560;
  const height = options.height ?? 300;
  const margin = { top: 32, right: 16, bottom: 44, left: 56 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const points = series.flatMap((each) => each.points);
  const errorValues = options.errors?.flat() ?? [];
  const xs = points.map((point) => point.x);
  const ys = points.map((point) => point.y);
  const maxError = errorValues.length > 0 ? Math.max(...errorValues) : 0;
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const yMin = ys.length ? Math.min(...ys) - maxError : 0;
  const yMax = ys.length ? Math.max(...ys) + maxError : 1;
  const xScale = (x: number) => margin.left + (xMax === xMin ? plotWidth / 2 : ((x - xMin) / (xMax - xMin)) * plotWidth);
  const yScale = (y: number) => margin.top + (yMax === yMin ? plotHeight / 2 : plotHeight - ((y - yMin) / (yMax - yMin)) * plotHeight);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" font-family="system-ui, sans-serif" font-size="11">`,
  );
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-size="13" font-weight="600">${escapeXml(options.title)}</text>`);
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#d4d4d8"/>`);
  for (const tick of niceTicks(yMin, yMax, 5)) {
    const y = yScale(tick).toFixed(1);
    parts.push(`<line x1="${margin.left}" x2="${margin.left + plotWidth}" y1="${y}" y2="${y}" stroke="#f4f4f5"/>`);
    parts.push(`<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${formatTick(tick)}</text>`);
  }
  for (const tick of niceTicks(xMin, xMax, 5)) {
    parts.push(`<text x="${xScale(tick).toFixed(1)}" y="${margin.top + plotHeight + 16}" text-anchor="middle">${formatTick(tick)}</text>`);
  }
  parts.push(`<text x="${margin.left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(14 ${margin.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  );
  series.forEach((each, seriesIndex) => {
    const color = palette[seriesIndex % palette.length]!;
    const path = each.points
      .map((point, index) => `${index === 0 ? 'M' : 'L'}${xScale(point.x).toFixed(1)},${yScale(point.y).toFixed(1)}`)
      .join(' ');
    if (each.points.length > 1) parts.push(`<path d="${path}" fill="none" stroke="${color}" stroke-width="1.6"/>`);
    each.points.forEach((point, index) => {
      const error = options.errors?.[seriesIndex]?.[index];
      const x = xScale(point.x).toFixed(1);
      if (error !== undefined && error > 0) {
        parts.push(
          `<line x1="${x}" x2="${x}" y1="${yScale(point.y - error).toFixed(1)}" y2="${yScale(point.y + error).toFixed(1)}" stroke="${color}"/>`,
        );
      }
      if (each.points.length <= 30) parts.push(`<circle cx="${x}" cy="${yScale(point.y).toFixed(1)}" r="2.5" fill="${color}"/>`);
    });
    const legendY = margin.top + 12 + seriesIndex * 14;
    parts.push(`<rect x="${margin.left + plotWidth - 130}" y="${legendY - 8}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${margin.left + plotWidth - 116}" y="${legendY}" dominant-baseline="middle">${escapeXml(each.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('');
}
