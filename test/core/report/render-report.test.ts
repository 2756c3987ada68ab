import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { renderHtmlReport, renderMarkdownReport } from '../../../core/report/render-report.js';
import type { ComparisonSummary, RunSummary } from '../../../core/report/run-summary.js';
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

/** What the evaluate stage adds: the teacher on the same 2,000 test examples, costs, latency, predictions. */
const comparison: ComparisonSummary = {
  testExamples: 2000,
  studentAccuracy: 0.7195,
  studentEvaluation: 'label scoring, fp32',
  teacherAccuracy: 0.7385,
  teacherTrainingAccuracy: null,
  teacherTrainingExamples: null,
  teacherCost: {
    provider: 'openai',
    model: 'gpt-4o-mini',
    measuredOn: 'test',
    answers: 2000,
    promptTokensPerThousand: 61_250,
    completionTokensPerThousand: 20_500,
    dollarsPerThousand: 0.0215,
    priceKey: 'openai/gpt-4o-mini',
  },
  studentCost: {
    cpuSecondsPerThousand: 31.25,
    threads: 1,
    predictions: 100,
    cpuPricePerHour: 0.05,
    dollarsPerThousand: (31.25 / 3600) * 0.05,
  },
  latency: { p50: 28.4, p95: 41.2, threads: 1, predictions: 100 },
  confusion: {
    labels: ['entailment', 'neutral', 'contradiction'],
    counts: [
      [600, 50, 20],
      [90, 500, 60],
      [40, 300, 340],
    ],
  },
  examples: [
    {
      id: 'esnli/test/0',
      input: 'Premise: A | B\nHypothesis: C',
      gold: 'neutral',
      student: 'neutral',
      studentConfidence: 0.81,
      teacherAsked: true,
      teacher: 'entailment',
      teacherRationale: 'A <b> implies C.',
    },
  ],
  usage: {
    directory: '/runs/quickstart/model',
    exampleInput: 'Premise: A | B\nHypothesis: C',
    cli: "distill predict --model /runs/quickstart/model --score-labels $'Premise: A | B\\nHypothesis: C'",
    library: "import { loadStudent } from 'distill';",
  },
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

test('teacher and student on the same test examples head the report, with both costs per 1,000, latency p50/p95 and the usage snippets', () => {
  const markdown = renderMarkdownReport({ ...summary, comparison }, []);
  assert.match(markdown, /^## Teacher and student on the same 2,000 test examples$/m);
  assert.match(markdown, /\| teacher \| recorded \/ palm-540b \| 2,000 test examples \| 73\.9% \|/);
  assert.match(markdown, /\| student \| exported student, in Node \| 2,000 test examples \| 72\.0% \| label scoring, fp32 \|/);
  assert.match(
    markdown,
    /\| teacher \(openai \/ gpt-4o-mini\) \| 61,250 prompt \+ 20,500 completion tokens \| \$0\.0215 at the list price of openai\/gpt-4o-mini \|/,
  );
  assert.match(markdown, /\| student \| 31\.25 CPU-seconds \| \$0\.000434 at \$0\.05 per CPU-core hour/);
  assert.match(markdown, /\| 28\.4 ms \| 41\.2 ms \| 1 \| 1 \| 100 \|/);
  assert.match(markdown, /\| contradiction \| 40 \| 300 \| 340 \|/);
  // A cell keeps its line break and its pipe inside the table row.
  assert.match(markdown, /\| Premise: A \\\| B<br>Hypothesis: C \| neutral \| neutral \(81%\) \| entailment \| A <b> implies C\. \|/);
  assert.ok(markdown.includes('```sh\n' + comparison.usage!.cli + '\n```'));
  assert.ok(markdown.indexOf('## Cost per 1,000 predictions') < markdown.indexOf('## Teacher (its training answers)'));
  const html = renderHtmlReport({ ...summary, comparison });
  assert.ok(html.includes('<td>A &lt;b&gt; implies C.</td>'));
  assert.ok(
    html.includes('<pre><code>import { loadStudent } from &#39;distill&#39;;</code></pre>') ||
      html.includes("<pre><code>import { loadStudent } from 'distill';</code></pre>"),
  );
});

test('a teacher not asked on the test split is shown with its training agreement, labelled as not the same examples', () => {
  const notAsked: ComparisonSummary = {
    ...comparison,
    teacherAccuracy: null,
    teacherTrainingAccuracy: 0.7363,
    teacherTrainingExamples: 5400,
    teacherCost: {
      ...comparison.teacherCost!,
      provider: 'recorded',
      model: 'palm-540b-recorded',
      measuredOn: 'training',
      answers: 5400,
      dollarsPerThousand: null,
      priceKey: null,
    },
  };
  const markdown = renderMarkdownReport({ ...summary, comparison: notAsked }, []);
  assert.match(markdown, /^## Teacher and student \(the teacher was not asked on the test examples\)$/m);
  assert.doesNotMatch(markdown, /^## .*on the same/m);
  assert.match(
    markdown,
    /\| teacher \| recorded \/ palm-540b \| 5,400 training examples \| 73\.6% \| agreement with gold on its training answers, NOT the test examples \(set evaluation\.teacher_on_test: true/,
  );
  assert.match(markdown, /no price known for recorded\/palm-540b-recorded: tokens only/);
  assert.match(markdown, /mean tokens of its 5,400 training answers/);
});

test('the loss chart smooths each loss with the raw curve faint behind, draws validation accuracy and marks the chosen checkpoint', () => {
  const student = {
    ...summary.student!,
    validationCurve: {
      name: 'validation accuracy',
      points: [
        { x: 2, y: 0.45 },
        { x: 3, y: 0.5 },
      ],
    },
    bestStep: 3,
  };
  const html = renderHtmlReport({ ...summary, student });
  assert.equal((html.match(/stroke-opacity="0\.25"/g) ?? []).length, 2, 'label and rationale, raw');
  assert.match(html, />label loss \(EMA\)</);
  assert.match(html, />validation accuracy \(%\)</);
  assert.match(html, />chosen checkpoint \(step 3\)</);
});
