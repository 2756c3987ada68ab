import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { dsbsDirectory, repositoryRoot } from '../support/paths.js';
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
