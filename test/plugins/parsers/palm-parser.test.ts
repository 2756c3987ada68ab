import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Parser } from '../../../core/plugins/kinds/parser.js';
import { answerExpression } from '../../../plugins/parsers/palm/palm-formats.js';
import { palmParser } from '../../../plugins/parsers/palm/palm-parser.js';
import { sharedDataMissing } from '../../support/paths.js';
import { madeUpExample, realCase } from './real-completions.js';

const parser = (dataset: 'anli1' | 'cqa' | 'esnli' | 'svamp', extra: Record<string, unknown> = {}): Parser =>
  palmParser.create({ dataset, ...extra }, undefined as never) as Parser;
const skip = sharedDataMissing();

test('cqa, real completion: cut at the next made-up "Q:", label the choice text after (c)', { skip }, async () => {
  const { completion, example } = await realCase('cqa', 'test', 0);
  assert.match(completion, /\n\nQ: /, 'the completion runs on into a made-up exemplar');
  const answer = parser('cqa').parse(completion, example);
  assert.deepEqual(answer, {
    status: 'parsed',
    label: 'wooded area',
    rationale:
      'The answer must be the place where beavers get their supplies. Of the above choices, only wooded areas have the supplies that beavers need.',
  });
});

test('cqa, real completion: PaLM\'s capitalised "Michigan" is spelt as the choice, unless as-written is asked', { skip }, async () => {
  // The first cqa test record whose gold answer is "michigan" and PaLM wrote "Michigan".
  let found = null;
  for (let index = 0; index < 1221 && !found; index++) {
    const candidate = await realCase('cqa', 'test', index);
    if (candidate.example.goldLabel === 'michigan' && /So the answer is \([a-e]\) Michigan/.test(candidate.completion)) found = candidate;
  }
  assert.ok(found, 'the real data has such a record');
  assert.equal((parser('cqa').parse(found.completion, found.example) as { label: string }).label, 'michigan');
  assert.equal(
    (parser('cqa', { choice_spelling: 'as-written' }).parse(found.completion, found.example) as { label: string }).label,
    'Michigan',
  );
});

test('svamp, real completion: the nested expression after "The answer is"', { skip }, async () => {
  const { completion, example } = await realCase('svamp', 'test', 1);
  const answer = parser('svamp').parse(completion, example);
  assert.equal(answer.status, 'parsed');
  assert.equal(answer.label, '(10 - (3 + 6))');
  assert.match(answer.rationale!, /^Jack received 3 emails .* = 1 emails in the evening\.$/);
});

test('esnli, real completion: label after "Answer:", rationale before it', { skip }, async () => {
  const { completion, example } = await realCase('esnli', 'test', 0);
  assert.deepEqual(parser('esnli').parse(completion, example), {
    status: 'parsed',
    label: 'neutral',
    rationale: 'The church choir singing to the masses does not necessarily mean that the church has cracks in the ceiling.',
  });
});

test('anli1, real completion: cut at the next "Premise:", label the word after "So the answer is"', { skip }, async () => {
  const { completion, example } = await realCase('anli1', 'test', 0);
  const answer = parser('anli1').parse(completion, example);
  assert.equal(answer.status, 'parsed');
  assert.equal(answer.label, 'contradiction');
  assert.match(answer.rationale!, /^The premise mentions that the first Ernest Jones store .* not on the continent of Europe\.$/);
});

test("an answer without the format's marker is kept as unparsed, with the reason and any rationale", () => {
  const answer = parser('anli1').parse('The premise mentions the album was released in 2004 and nothing else.', madeUpExample());
  assert.deepEqual(answer, {
    status: 'unparsed',
    label: null,
    rationale: 'The premise mentions the album was released in 2004 and nothing else.',
    reason: 'no "So the answer is" in the completion',
  });
  const cqa = parser('cqa').parse(
    'Of the above choices, none fits. So the answer is one of these four.',
    madeUpExample({ choices: ['a', 'b', 'c', 'd', 'e'] }),
  );
  assert.equal(cqa.status, 'unparsed');
  assert.match((cqa as { reason: string }).reason, /no \(x\) choice marker after "So the answer is": "one of these four\."/);
});

test('esnli: a label that is not an NLI label is unparsed; a cut-off completion keeps its label', () => {
  assert.deepEqual(parser('esnli').parse('A man is human.\nAnswer: maybe so', madeUpExample()), {
    status: 'unparsed',
    label: null,
    rationale: null,
    reason: '"maybe so" after "Answer:" is not an NLI label',
  });
  assert.equal(
    parser('esnli').parse('The dog is running outside in the park.\nAnswer: entailment\n\nPre', madeUpExample()).label,
    'entailment',
  );
});

test('svamp: an answer with unknowns instead of arithmetic is unparsed', () => {
  const answer = parser('svamp').parse('He had some apples and ate 8 of them. The answer is (some - 8).', madeUpExample());
  assert.equal(answer.status, 'unparsed');
  assert.match((answer as { reason: string }).reason, /no arithmetic expression in parentheses/);
});

test('the answer expression stops where the arithmetic stops and keeps balanced parentheses', () => {
  assert.equal(answerExpression(' (10 - (3 + 6)).'), '(10 - (3 + 6))');
  assert.equal(answerExpression(' (8 / 4) and (6 / 4).'), '(8 / 4)');
  assert.equal(answerExpression(' (30 * 71) + (30 * 24).'), '(30 * 71) + (30 * 24)');
  assert.equal(answerExpression(' (2 * x).'), null);
  assert.equal(answerExpression(' ((491 - 21'), null);
  assert.equal(answerExpression(' 42.'), null);
});

test('cqa: a marker with no text after it maps its letter to the choice', () => {
  const answer = parser('cqa').parse(
    'Beavers build dams from trees in the forest. So the answer is (c).',
    madeUpExample({ choices: ['river', 'zoo', 'wooded area', 'desert', 'city'] }),
  );
  assert.equal(answer.label, 'wooded area');
});

test('a rationale under 5 words is no rationale; min_rationale_words changes the bound', () => {
  const completion = 'Dogs are animals. So the answer is entailment.';
  assert.equal(parser('anli1').parse(completion, madeUpExample()).rationale, null);
  assert.equal(parser('anli1', { min_rationale_words: 3 }).parse(completion, madeUpExample()).rationale, 'Dogs are animals.');
});
