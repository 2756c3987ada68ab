import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { renderHtmlReport, renderMarkdownReport } from '../../../core/report/render-report.js';
import type { RunSummary } from '../../../core/report/run-summary.js';
import { chromiumMissing, loadInChromium } from '../../support/headless-chromium.js';

const summary: RunSummary = {
  pipeline: 'esnli <quickstart>',
  description: 'A & B',
  createdAt: '2026-11-25T16:00:00.000Z',
  teacher: {
    provider: 'recorded',
    model: 'palm-540b',
    examples: 3000,
    accuracy: 0.7363,
    explanationRate: 0.98,
    unparsed: 3,
    failed: 0,
    promptTokens: 0,
    completionTokens: 0,
    dollars: 0,
  },
  student: {
    steps: 400,
    validationAccuracy: 0.52,
    testAccuracy: 0.5,
    testExamples: 200,
    exportedTestAccuracy: 0.5,
    exportedTestExamples: 200,
    exportedEvaluation: 'label scoring, int8',
    quantizedTestAccuracy: 0.495,
    majorityClassAccuracy: 0.343,
    exportedBytes: 12_345_678,
    latencyMilliseconds: 3.21,
    lossCurves: [
      {
        name: 'label',
        points: [
          { x: 1, y: 3 },
          { x: 2, y: 2 },
          { x: 3, y: 1.5 },
        ],
      },
      {
        name: 'rationale',
        points: [
          { x: 1, y: 5 },
          { x: 2, y: 4 },
          { x: 3, y: 3.5 },
        ],
      },
    ],
  },
  sweep: [
    { mode: 'step-by-step', dataFraction: 0.125, rationaleRate: 1, alpha: 0.5, accuracies: [0.4, 0.42, 0.41] },
    { mode: 'step-by-step', dataFraction: 1, rationaleRate: 1, alpha: 0.5, accuracies: [0.5, 0.52, 0.51] },
    { mode: 'standard', dataFraction: 0.125, rationaleRate: 0, alpha: 1, accuracies: [0.38] },
    { mode: 'standard', dataFraction: 1, rationaleRate: 0, alpha: 1, accuracies: [0.45] },
  ],
  stages: [
    { stage: 'teacher', status: 'reused' },
    { stage: 'trainer', status: 'computed' },
  ],
};

test("a trainer test on the first N examples (test_limit) says so beside the exported model's whole split", () => {
  const limited = { ...summary, student: { ...summary.student!, testExamples: 50 } };
  assert.match(renderMarkdownReport(limited, []), /\| 400 \| 52\.0% \| 50\.0% \(first 50\) \| 50\.0% \|/);
});

test('the Markdown report holds the teacher, student and sweep figures', () => {
  const markdown = renderMarkdownReport(summary, ['loss.svg']);
  assert.match(markdown, /\| recorded \/ palm-540b \| 3000 \| 73\.6% \| 98\.0% \| 3 \| 0 \| 0 \| 0 \| \$0\.0000 \|/);
  assert.match(markdown, /\| 400 \| 52\.0% \| 50\.0% \| 50\.0% \| label scoring, int8 \| 49\.5% \| 34\.3% \| 12\.3 MB \| 3\.2 ms \|/);
  assert.match(markdown, /\| step-by-step \| 12\.5% \| 1 \| 0\.5 \| 3 \| 41\.0% ± 1\.0 \|/);
  assert.match(markdown, /!\[loss\.svg\]\(loss\.svg\)/);
});

test('the HTML report escapes text and draws the loss and sweep charts inline', () => {
  const html = renderHtmlReport(summary);
  assert.match(html, /<title>distill report: esnli &lt;quickstart&gt;<\/title>/);
  assert.equal(
    (html.match(/<svg /g) ?? []).length,
    2,
    'loss curves and accuracy against data fraction (rationale rate has one value per series)',
  );
  assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, 'no script and nothing to fetch');
});

test('the HTML report renders in headless Chromium with no console errors', { skip: chromiumMissing(), timeout: 60_000 }, async () => {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'distill-report-'));
  try {
    const file = path.join(directory, 'report.html');
    writeFileSync(file, renderHtmlReport(summary));
    const load = await loadInChromium(file);
    assert.deepEqual(load.consoleErrors, []);
    assert.deepEqual(load.pageErrors, []);
    assert.deepEqual(load.externalRequests, []);
    assert.equal(load.title, 'distill report: esnli <quickstart>');
    assert.equal(load.svgCount, 2);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
