import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fillTemplate, findPlaceholders, unknownPlaceholderProblems } from '../../../core/parsing/template-placeholders.js';

test('placeholders are listed once each, in order of first use', () => {
  assert.deepEqual(findPlaceholders('{premise} and "{hypothesis}" again {premise}'), ['premise', 'hypothesis']);
  assert.deepEqual(findPlaceholders('no placeholders here'), []);
});

test('doubled braces are literal, and braces that are not a name are left alone', () => {
  const template = 'Reply as {{"label": "…"}} for {question} {not a field} { }';
  assert.deepEqual(findPlaceholders(template), ['question']);
  assert.equal(fillTemplate(template, { question: 'Why?' }), 'Reply as {"label": "…"} for Why? {not a field} { }');
});

test('values are filled as text: strings as they are, others as JSON', () => {
  assert.equal(fillTemplate('{a}|{b}|{c}', { a: 'x', b: 3, c: ['p', 'q'] }), 'x|3|["p","q"]');
  assert.throws(() => fillTemplate('{missing}', {}), /\{missing\} has no value/);
});

test('a placeholder that names no field is reported with a did-you-mean and the field list', () => {
  const problems = unknownPlaceholderProblems(['premise', 'hypothesys', 'topic'], ['premise', 'hypothesis'], 'prompt/template');
  assert.deepEqual(problems, [
    {
      message: 'the template uses {hypothesys}, which is not a field of the dataset',
      plugin: 'prompt/template',
      fix: 'did you mean "hypothesis"? fields: premise, hypothesis',
    },
    {
      message: 'the template uses {topic}, which is not a field of the dataset',
      plugin: 'prompt/template',
      fix: 'fields: premise, hypothesis',
    },
  ]);
  assert.deepEqual(unknownPlaceholderProblems(['premise'], ['premise'], 'prompt/template'), []);
});
