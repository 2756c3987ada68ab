import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Parser } from '../../../core/plugins/kinds/parser.js';
import { UserError } from '../../../core/errors/user-error.js';
import { regexParser, type RegexParserOptions } from '../../../plugins/parsers/regex/regex-parser.js';
import { madeUpExample } from './real-completions.js';

const create = (options: RegexParserOptions): Parser => regexParser.create(options, undefined as never) as Parser;

test('case-insensitive, dot matches newline; the rationale is the rest, cleaned', () => {
  const parser = create({ label_pattern: 'verdict:\\s*(\\w+)', labels: 'nli' });
  const answer = parser.parse('Explanation: the man in the picture is clearly sleeping.\nVERDICT: True', madeUpExample());
  assert.deepEqual(answer, { status: 'parsed', label: 'entailment', rationale: 'the man in the picture is clearly sleeping.' });
  const multiline = create({ label_pattern: 'start(.*)end', label_kind: 'word' });
  assert.equal(multiline.parse('START\nyes\nEND', madeUpExample()).label, 'yes');
});

test('labels: nli normalises the built-in words; label_map adds more; other words are rejected with a reason', () => {
  const parser = create({
    label_pattern: '^(\\w+(?: \\w+)?)\\.',
    labels: 'nli',
    label_map: { supported: 'entailment', refuted: 'contradiction' },
  });
  assert.equal(parser.parse('Inconclusive. The premise does not say where he went.', madeUpExample()).label, 'neutral');
  assert.equal(parser.parse('Not valid. The premise says the opposite of the claim.', madeUpExample()).label, 'contradiction');
  assert.equal(parser.parse('Refuted. The premise says the opposite of the claim.', madeUpExample()).label, 'contradiction');
  const rejected = parser.parse('Perhaps. Who knows what the premise means here.', madeUpExample());
  assert.equal(rejected.status, 'unparsed');
  assert.equal(
    (rejected as { reason: string }).reason,
    '"Perhaps" is not a valid label (expected one of entailment, neutral, contradiction)',
  );
});

test('patterns are tried in order until one yields a valid label', () => {
  const parser = create({ label_pattern: ['answer:\\s*(\\w+)', '\\b(true|false)\\b'], labels: 'nli' });
  assert.equal(parser.parse('I think this is false because the store is in London.', madeUpExample()).label, 'contradiction');
  assert.equal(parser.parse('Answer: dunno. But it is true that he left.', madeUpExample()).label, 'entailment');
});

test('a choice letter or number maps to the choice text when the example has choices', () => {
  const choices = ['british columbia', 'body of water', 'wooded area', 'pay debts', 'zoo'];
  const parser = create({ label_pattern: 'answer is \\(?(\\w+)\\)?' });
  assert.equal(parser.parse('The answer is (c) because beavers need trees to build.', madeUpExample({ choices })).label, 'wooded area');
  assert.equal(parser.parse('The answer is 5 since beavers live in zoos too.', madeUpExample({ choices })).label, 'zoo');
  const byFields = create({ label_pattern: 'answer is (\\w)', choice_fields: ['first', 'second'] });
  assert.equal(byFields.parse('The answer is b for sure.', madeUpExample({ first: 'cat', second: 'dog' })).label, 'dog');
  const outOfRange = create({ label_pattern: 'answer is (\\w)', label_kind: 'choice' }).parse(
    'The answer is z.',
    madeUpExample({ choices }),
  );
  assert.equal(outOfRange.status, 'unparsed');
});

test('the choice text after a letter is part of the label, not the rationale', () => {
  const choices = ['river', 'zoo', 'wooded area', 'desert', 'city'];
  const answer = create({ label_pattern: '^\\(?([a-e])\\)' }).parse(
    'c) wooded area. Beavers take their wood from forests nearby.',
    madeUpExample({ choices }),
  );
  assert.deepEqual(answer, { status: 'parsed', label: 'wooded area', rationale: 'Beavers take their wood from forests nearby.' });
});

test('rationale_pattern picks the rationale; cut_at drops made-up continuations', () => {
  const parser = create({ label_pattern: 'label: (\\w+)', rationale_pattern: 'why: (?<rationale>.*?)(?:label:|$)', cut_at: 'Q:' });
  const answer = parser.parse(
    'why: the sky is blue on clear days. label: yes\n\nQ: another question? why: not this one at all. label: no',
    madeUpExample(),
  );
  assert.deepEqual(answer, { status: 'parsed', label: 'yes', rationale: 'the sky is blue on clear days.' });
});

test('numbers are written plainly', () => {
  const parser = create({ label_pattern: 'total is \\$?([\\d,.]+\\d)', label_kind: 'number' });
  assert.equal(parser.parse('So the total is $1,250.50 in the end.', madeUpExample()).label, '1250.5');
});

test('no match is unparsed with the reason; an empty answer says so', () => {
  const parser = create({ label_pattern: 'answer: (\\w+)' });
  assert.deepEqual(parser.parse('I would rather not say anything about this one.', madeUpExample()), {
    status: 'unparsed',
    label: null,
    rationale: 'I would rather not say anything about this one.',
    reason: 'no label found: none of the label patterns matched',
  });
  assert.equal((parser.parse('  ', madeUpExample()) as { reason: string }).reason, 'empty completion');
});

test('an invalid regular expression is a UserError naming the option', () => {
  assert.throws(
    () => create({ label_pattern: ['ok (\\w+)', 'broken (unclosed'], rationale_pattern: '[' }),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.deepEqual(
        error.problems.map((problem) => problem.message.split(':')[0]),
        ['label_pattern is not a valid regular expression', 'rationale_pattern is not a valid regular expression'],
      );
      return true;
    },
  );
});
