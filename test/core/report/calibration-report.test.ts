import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CalibrationFile } from '../../../core/calibration/calibration-file.js';
import { operatingPoints } from '../../../core/calibration/thresholds.js';
import { renderHtmlReport, renderMarkdownReport, reportCharts } from '../../../core/report/render-report.js';
import type { RunSummary } from '../../../core/report/run-summary.js';
import { exampleCalibration } from '../calibration/calibration-fixture.js';

const bare: RunSummary = {
  pipeline: 'calibrated',
  createdAt: '2026-12-06T12:00:00.000Z',
  teacher: null,
  student: null,
  sweep: [],
  stages: [],
};

const calibration = exampleCalibration;

// A curve of 600 validation points (more than the chart draws).
const curve = operatingPoints(
  Array.from({ length: 600 }, (_, index) => ({ confidence: index / 600, studentAgrees: index % 10 !== 0, teacherAgrees: true })),
);

test('with a calibration: the coverage/agreement chart and the promised-against-achieved table', () => {
  const summary: RunSummary = { ...bare, calibration: { calibration, curve, testMissing: null } };
  const charts = reportCharts(summary);
  assert.deepEqual(
    charts.map((chart) => chart.title),
    ['Student first: coverage and agreement'],
  );
  const svg = charts[0]!.svg;
  for (const legend of ['agreement on validation', 'lower bound (95%)', 'achieved on test', 'target 95.0%'])
    assert.ok(svg.includes(legend), legend);
  assert.ok(!svg.includes('target 99.0%'), 'no marker for a target no threshold reaches');
  const markdown = renderMarkdownReport(summary);
  assert.match(
    markdown,
    /## Calibration against teacher \(600 validation examples, label probability, Clopper–Pearson 95% lower bound\); test: 2000 examples/,
  );
  assert.match(
    markdown,
    /\| target \| threshold \| promised coverage \| validation agreement \| lower bound \| test coverage \| test agreement \|/,
  );
  assert.match(markdown, /\| 95\.0% \| 0\.8700 \| 62\.0% \| 97\.0% \| 95\.1% \| 60\.0% \| 96\.0% \|/);
  assert.match(markdown, /\| 99\.0% \| none reaches it \| 0\.0% \| – \| – \| 0\.0% \| 100\.0% \|/);
  const html = renderHtmlReport(summary);
  assert.ok(html.includes('agreement on validation'));
  assert.match(html, /<h2>Calibration against teacher/);
});

test('a calibration without a test part says why, and its table leaves the test columns empty', () => {
  const untested = Object.fromEntries(Object.entries(calibration).filter(([key]) => key !== 'test')) as unknown as CalibrationFile;
  const why = 'the teacher never answered the test split: set evaluation.teacher_on_test: true and run the pipeline again';
  const markdown = renderMarkdownReport({ ...bare, calibration: { calibration: untested, curve, testMissing: why } });
  assert.ok(markdown.includes(`; test not scored: ${why}`));
  assert.match(markdown, /\| 95\.0% \| 0\.8700 \| 62\.0% \| 97\.0% \| 95\.1% \| – \| – \|/);
  assert.ok(
    !reportCharts({ ...bare, calibration: { calibration: untested, curve, testMissing: why } })[0]!.svg.includes('achieved on test'),
  );
});

test('without a calibration: no chart and no table', () => {
  for (const summary of [bare, { ...bare, calibration: null }]) {
    assert.deepEqual(reportCharts(summary), []);
    assert.doesNotMatch(renderMarkdownReport(summary), /Calibration/);
    assert.doesNotMatch(renderHtmlReport(summary), /Calibration|coverage/);
  }
});
