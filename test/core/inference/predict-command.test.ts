import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { predictCommand, shellWord } from '../../../core/inference/predict-command.js';

test('a shell word gives back its text in bash, on one line, whatever the text holds', () => {
  const texts = [
    'plain-word_1.0',
    'A man plays a guitar. </s> A person makes music.',
    'it\'s "quoted" with $HOME, `ticks`, \\ and *',
    'Premise: a dog runs.\nHypothesis: an animal moves.',
    "tab\there, carriage\rreturn, bell\u0007, quote' after a line\nbreak",
  ];
  for (const text of texts) {
    const word = shellWord(text);
    assert.ok(!word.includes('\n'), `one line: ${word}`);
    const echoed = spawnSync('bash', ['-c', `printf %s ${word}`], { encoding: 'utf8' });
    assert.equal(echoed.status, 0, echoed.stderr);
    assert.equal(echoed.stdout, text, `bash reads ${word} back as the text`);
  }
  assert.equal(shellWord('runs/tiny/model'), 'runs/tiny/model', 'a plain path stays as typed');
  assert.equal(predictCommand('runs/x/model', 'a b'), "distill predict --model runs/x/model 'a b'");
});
