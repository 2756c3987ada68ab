import assert from 'node:assert/strict';
import { test } from 'node:test';
import { niceScale, svgLineChart } from '../../../core/report/svg-line-chart.js';

/** The labels of an SVG's tick texts that end in `anchor`, in order. */
function tickLabels(svg: string, anchor: 'end' | 'middle'): string[] {
  return [
    ...svg.matchAll(
      new RegExp(`<text x="[\\d.]+" y="[\\d.]+" text-anchor="${anchor}"(?: dominant-baseline="middle")?>([^<]*)</text>`, 'g'),
    ),
  ].map((match) => match[1]!);
}

test('ticks fall on round numbers: steps 1 to 601 tick at hundreds, never at 300.8 or 600.5', () => {
  const points = Array.from({ length: 601 }, (_, index) => ({ x: index + 1, y: 4 - index / 200 }));
  const svg = svgLineChart([{ name: 'total', points }], { title: 'loss', xLabel: 'step', yLabel: 'loss' });
  const xTicks = tickLabels(svg, 'middle').filter((label) => /^[\d,.]+$/.test(label));
  assert.deepEqual(xTicks, ['0', '100', '200', '300', '400', '500', '600', '700']);
  const yTicks = tickLabels(svg, 'end').map(Number);
  assert.ok(
    yTicks.every((tick) => Number.isInteger(tick * 2)),
    `y ticks ${yTicks.join(', ')}`,
  );
});

test('an accuracy axis stays within 0–100% when error bars reach past it (was 114%)', () => {
  const svg = svgLineChart(
    [
      {
        name: 'step-by-step',
        points: [
          { x: 12.5, y: 80 },
          { x: 100, y: 99 },
        ],
      },
    ],
    { title: 'accuracy', xLabel: 'data (%)', yLabel: 'test accuracy (%)', errors: [[2, 15]], yLimits: [0, 100] },
  );
  const yTicks = tickLabels(svg, 'end').map(Number);
  assert.equal(Math.max(...yTicks), 100);
  assert.ok(Math.min(...yTicks) >= 0);
  const scale = niceScale([80 - 2, 99 + 15], [200, 0], [0, 100]);
  assert.deepEqual(scale.domain(), [70, 100]);
});

test('a faint series is drawn pale behind and left out of the legend; the right axis and the marker are drawn', () => {
  const raw = { name: 'total (raw)', points: [1, 2, 3].map((x) => ({ x, y: 4 - x })), faint: true, colorIndex: 0 };
  const smooth = { name: 'total loss (EMA)', points: [1, 2, 3].map((x) => ({ x, y: 3.5 - x })), colorIndex: 0 };
  const svg = svgLineChart([smooth, raw], {
    title: 'loss',
    xLabel: 'step',
    yLabel: 'loss',
    right: { series: [{ name: 'validation accuracy', points: [{ x: 2, y: 40 }] }], label: 'validation accuracy (%)', domain: [0, 100] },
    markers: [{ x: 2, label: 'chosen checkpoint (step 2)' }],
  });
  const faintAt = svg.indexOf('stroke-opacity="0.25"');
  const solidAt = svg.indexOf('stroke-width="1.8"');
  assert.ok(faintAt > 0 && faintAt < solidAt, 'the raw curve comes first, under the smoothed one');
  assert.ok(!svg.includes('>total (raw)<'), 'no legend entry for the raw curve');
  assert.ok(svg.includes('>total loss (EMA)<'));
  assert.ok(svg.includes('>validation accuracy<'));
  assert.ok(svg.includes('>validation accuracy (%)<'));
  assert.ok(svg.includes('>chosen checkpoint (step 2)<'));
  // The right axis spans 0–100% whatever the values, so that a 40% reads as 40% of the height.
  const rightTicks = [...svg.matchAll(/fill="#0f766e">(\d+)<\/text>/g)].map((match) => Number(match[1]));
  assert.deepEqual([rightTicks[0], rightTicks.at(-1)], [0, 100]);
  assert.ok(svg.includes('stroke-dasharray="4 3"'), 'the checkpoint line');
});

test('one value gets room around it instead of a zero-height axis', () => {
  assert.deepEqual(niceScale([5], [100, 0]).domain(), [4.4, 5.6]);
  assert.deepEqual(niceScale([0], [100, 0]).domain(), [-1, 1]);
});

test('marker labels close together go on separate rows, and one at the left edge goes right of its line, inside the plot', () => {
  const points = [
    { x: 0, y: 100 },
    { x: 100, y: 60 },
  ];
  const markers = [
    { x: 1, label: 'target 99.0%' },
    { x: 12, label: 'target 98.0%' },
    { x: 18, label: 'target 95.0%' },
    { x: 36, label: 'target 90.0%' },
  ];
  const svg = svgLineChart([{ name: 'agreement', points }], {
    title: 'coverage',
    xLabel: 'coverage (%)',
    yLabel: 'agreement (%)',
    width: 900,
    markers,
    markerLabels: 'bottom',
  });
  const labels = [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)" text-anchor="(start|end)" fill="#52525b">([^<]*)<\/text>/g)].map(
    (match) => ({
      x: Number(match[1]),
      y: Number(match[2]),
      anchor: match[3],
      label: match[4],
    }),
  );
  assert.deepEqual(
    labels.map((each) => each.label),
    markers.map((each) => each.label),
  );
  const lines = [...svg.matchAll(/<line x1="([\d.]+)"[^>]*stroke-dasharray="4 3"\/>/g)].map((match) => Number(match[1]));
  // The 99% marker sits near the left edge: its label starts right of its line.
  assert.equal(labels[0]!.anchor, 'start');
  assert.ok(labels[0]!.x > lines[0]!);
  // The 98% and 95% markers are closer than their labels are wide: they share no row with their neighbour.
  assert.notEqual(labels[1]!.y, labels[2]!.y);
  assert.notEqual(labels[0]!.y, labels[1]!.y);
  // The 90% marker is far enough from the others to use the first row again, near the plot's bottom.
  assert.equal(labels[3]!.y, Math.max(...labels.map((each) => each.y)));
});
