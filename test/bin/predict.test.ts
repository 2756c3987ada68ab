import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { dsbsDirectory, repositoryRoot } from '../support/paths.js';
import { tinyCausalLm, tinyCausalLmMissing } from '../core/inference/tiny-causal-lm-fixture.js';
import { tinyStudent, tinyStudentMissing } from '../core/inference/tiny-student-fixture.js';

/** Runs the real CLI (`bin/run.js`) as a user would. */
function distill(...args: string[]) {
  return spawnSync(process.execPath, [path.join(repositoryRoot, 'bin', 'run.js'), ...args], { encoding: 'utf8', cwd: repositoryRoot });
}

describe('distill predict and eval on an exported student', { skip: tinyStudentMissing() }, () => {
  test('predict --input file.jsonl prints one JSON line per record, fields passed through', async () => {
    const fixture = await tinyStudent('trained');
    const scratch = mkdtempSync(path.join(tmpdir(), 'distill-predict-'));
    try {
      const file = path.join(scratch, 'inputs.jsonl');
      writeFileSync(
        file,
        fixture.test
          .slice(0, 3)
          .map((example, index) => JSON.stringify({ id: index, input: example.input }))
          .join('\n') + '\n',
      );
      const run = distill(
        'predict',
        '--model',
        fixture.exported,
        '--input',
        file,
        '--explain',
        '--max-new-tokens',
        String(fixture.reference.max_new_tokens),
      );
      assert.equal(run.status, 0, run.stderr);
      const lines = run.stdout
        .trim()
        .split('\n')
        .map((line): unknown => JSON.parse(line));
      assert.deepEqual(
        lines,
        [0, 1, 2].map((index) => ({
          id: index,
          input: fixture.test[index]!.input,
          label: fixture.reference.predict_texts[index]!.trim(),
          rationale: fixture.reference.explain_texts[index]!.trim(),
        })),
      );
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  test('predict with a text argument prints the label', async () => {
    const fixture = await tinyStudent('trained');
    const run = distill('predict', '--model', fixture.exported, fixture.test[3]!.input);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), fixture.reference.predict_texts[3]!.trim());
  });

  test('eval --json reports the accuracy PyTorch had on the same examples', async () => {
    const fixture = await tinyStudent('trained');
    const run = distill(
      'eval',
      '--model',
      fixture.exported,
      '--dataset',
      'esnli',
      '--split',
      'test',
      '--root',
      dsbsDirectory,
      '--limit',
      String(fixture.test.length),
      '--max-new-tokens',
      String(fixture.reference.max_new_tokens),
      '--json',
    );
    assert.equal(run.status, 0, run.stderr);
    const report = JSON.parse(run.stdout) as { correct: number; examples: number; metric: string };
    const correct = fixture.reference.predict_texts.filter(
      (text, index) => text.trim().toLowerCase() === fixture.test[index]!.label,
    ).length;
    assert.equal(report.correct, correct);
    assert.equal(report.examples, fixture.test.length);
    assert.equal(report.metric, 'exact-match');
  });

  test('a wrong --model is a user error with a fix, exit 1, no stack trace', () => {
    const run = distill('predict', '--model', path.join(tmpdir(), 'no-such-student'), 'some text');
    assert.equal(run.status, 1);
    assert.match(run.stderr, /model folder .*no-such-student does not exist\n {2}fix: pass a folder written by `distill export/);
    assert.doesNotMatch(run.stderr, /at .*\.js:\d+/);
  });
});

describe('distill predict and eval on an exported causal-LM student', { skip: tinyCausalLmMissing() }, () => {
  /** The label PyTorch scores highest for each test input, and its probability among the labels. */
  function pytorchBest(totals: number[]): { index: number; probability: number } {
    const index = totals.indexOf(Math.max(...totals));
    return { index, probability: 1 / totals.reduce((sum, total) => sum + Math.exp(total - totals[index]!), 0) };
  }
  const labels = ['contradiction', 'entailment', 'neutral'];

  test('predict --score-labels --json prints each label with its confidence', async () => {
    const fixture = await tinyCausalLm('llama');
    const inputs = fixture.test.slice(0, 3).map((example) => example.input);
    const run = distill('predict', '--model', fixture.exported, '--score-labels', '--json', ...inputs);
    assert.equal(run.status, 0, run.stderr);
    const records = JSON.parse(run.stdout) as { input: string; label: string; confidence: number; probabilities: Record<string, number> }[];
    assert.equal(records.length, 3);
    records.forEach((record, index) => {
      const totals = fixture.reference.label_log_probabilities[index]!;
      const best = pytorchBest(totals);
      assert.equal(record.input, inputs[index]);
      assert.equal(record.label, labels[best.index]);
      assert.ok(Math.abs(record.confidence - best.probability) <= 1e-4, `${record.confidence} vs ${best.probability}`);
      // Every label's probability: PyTorch's softmax over the labels' total log-probabilities.
      assert.deepEqual(Object.keys(record.probabilities).sort(), [...labels].sort());
      const normaliser = totals.reduce((sum, total) => sum + Math.exp(total - totals[best.index]!), 0);
      labels.forEach((label, labelIndex) => {
        const expected = Math.exp(totals[labelIndex]! - totals[best.index]!) / normaliser;
        assert.ok(Math.abs(record.probabilities[label]! - expected) <= 1e-4, `${label}: ${record.probabilities[label]} vs ${expected}`);
      });
      assert.equal(record.probabilities[record.label], record.confidence, "the answer's probability is its confidence");
    });
    const plain = distill('predict', '--model', fixture.exported, inputs[0]!);
    assert.equal(plain.status, 0, plain.stderr);
    assert.equal(plain.stdout.trim(), fixture.reference.predict_texts[0]);
    // A free answer in JSON carries its confidence too: the mean token log-probability of the greedy answer.
    const generated = distill('predict', '--model', fixture.exported, '--json', inputs[0]!);
    assert.equal(generated.status, 0, generated.stderr);
    const [free] = JSON.parse(generated.stdout) as { label: string; meanLogProbability: number }[];
    assert.equal(free!.label, fixture.reference.predict_texts[0]);
    assert.ok(Number.isFinite(free!.meanLogProbability) && free!.meanLogProbability <= 0, JSON.stringify(free));
  });

  test('eval --score-labels scores the best-scoring labels; free generation stays the default', async (context) => {
    const fixture = await tinyCausalLm('llama');
    const scratch = mkdtempSync(path.join(tmpdir(), 'distill-eval-'));
    context.after(() => rmSync(scratch, { recursive: true, force: true }));
    const file = path.join(scratch, 'gold.jsonl');
    writeFileSync(file, fixture.test.map((example) => JSON.stringify({ input: example.input, label: example.label })).join('\n') + '\n');
    const scored = distill('eval', '--model', fixture.exported, '--dataset', file, '--score-labels', '--json');
    assert.equal(scored.status, 0, scored.stderr);
    const expected = fixture.reference.label_log_probabilities.filter(
      (totals, index) => labels[pytorchBest(totals).index] === fixture.test[index]!.label,
    ).length;
    assert.equal((JSON.parse(scored.stdout) as { correct: number }).correct, expected);
    const generated = distill('eval', '--model', fixture.exported, '--dataset', file, '--json');
    assert.equal(generated.status, 0, generated.stderr);
    const freeCorrect = fixture.reference.predict_texts.filter((text, index) => text === fixture.test[index]!.label).length;
    assert.equal((JSON.parse(generated.stdout) as { correct: number }).correct, freeCorrect);
  });

  test(
    '--score-labels on a T5 folder needs --labels: a user error with the fix, then an answer among them',
    { skip: tinyStudentMissing() },
    async () => {
      const fixture = await tinyStudent('trained');
      const input = fixture.test[0]!.input;
      const refused = distill('predict', '--model', fixture.exported, '--score-labels', input);
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /label scoring needs the allowed labels, and this student folder has none\n {2}fix: pass the labels/);
      const run = distill('predict', '--model', fixture.exported, '--score-labels', '--labels', labels.join(','), '--json', input);
      assert.equal(run.status, 0, run.stderr);
      const [record] = JSON.parse(run.stdout) as { label: string; confidence: number; probabilities: Record<string, number> }[];
      assert.ok(labels.includes(record!.label) && record!.confidence > 1 / 3 && record!.confidence <= 1, JSON.stringify(record));
      // The T5 family gives every label's probability too: they sum to 1, and the answer's is the largest.
      const probabilities = Object.values(record!.probabilities);
      assert.equal(probabilities.length, labels.length);
      assert.ok(Math.abs(probabilities.reduce((sum, value) => sum + value, 0) - 1) <= 1e-9, JSON.stringify(record));
      assert.equal(Math.max(...probabilities), record!.probabilities[record!.label]);
    },
  );
});
