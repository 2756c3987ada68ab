import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { modelUsage, shellQuote } from '../../../core/report/usage-snippets.js';

/** What bash makes of a word: the one argument it passes on. */
function bashWord(word: string): string {
  return execFileSync('bash', ['-c', `printf '%s' ${word}`], { encoding: 'utf8' });
}

test('bash reads each quoted input back exactly: line breaks, quotes, backslashes, $ and spaces', () => {
  for (const text of [
    'Premise: A man\'s guitar.\nHypothesis: He plays "music" for $5 \\ `now`.',
    "it's a test",
    'plain',
    'tab\there',
    '/models/run 1/model',
  ]) {
    assert.equal(bashWord(shellQuote(text)), text);
  }
});

test('the snippets use the evaluate stage settings: label scoring, int8, the labels a T5 folder lacks', () => {
  const usage = modelUsage('/runs/q/model', 'Premise: a\nHypothesis: b', {
    scoreLabels: true,
    precision: 'int8',
    labels: ['yes', 'no'],
  });
  assert.equal(usage.cli, "distill predict --model /runs/q/model --score-labels --labels yes,no --quantized $'Premise: a\\nHypothesis: b'");
  assert.match(usage.library, /^import \{ loadStudent \} from 'distill';/);
  assert.match(usage.library, /loadStudent\("\/runs\/q\/model", \{ precision: 'int8' \}\)/);
  assert.match(usage.library, /predict\(\["Premise: a\\nHypothesis: b"\], \{ scoreLabels: true, labels: \["yes","no"\] \}\)/);
  const plain = modelUsage('/m', 'x y', { scoreLabels: false, precision: 'fp32', labels: null });
  assert.equal(plain.cli, "distill predict --model /m 'x y'");
  assert.match(plain.library, /loadStudent\("\/m"\);\nconst \[prediction\] = await student\.predict\(\["x y"\]\);/);
});
