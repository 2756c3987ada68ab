import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Parser } from '../../../core/plugins/kinds/parser.js';
import { zeroShotParser, type ZeroShotParserOptions } from '../../../plugins/parsers/zero-shot/zero-shot-parser.js';
import { madeUpExample } from './real-completions.js';

const create = (template: ZeroShotParserOptions['template']): Parser => zeroShotParser.create({ template }, undefined as never) as Parser;

test('NLI zero-shot answers: label stated or first, rationale the rest', () => {
  const parser = create('nli-zero-shot');
  const cases: [string, string, string | null][] = [
    [
      'The claim is false. The premise says the first store opened in London, not Paris.',
      'contradiction',
      'The premise says the first store opened in London, not Paris.',
    ],
    [
      'Inconclusive. The premise does not mention how many stadiums are larger.',
      'neutral',
      'The premise does not mention how many stadiums are larger.',
    ],
    [
      'True.\n\nExplanation: Oxford Street is in London, which is in Europe.',
      'entailment',
      'Oxford Street is in London, which is in Europe.',
    ],
    [
      '**Answer: Cannot be determined**\nNothing in the premise says what he ate for lunch.',
      'neutral',
      'Nothing in the premise says what he ate for lunch.',
    ],
    ['Based on the premise, the claim is not true because the senator served until 2001.', 'contradiction', null],
    ['There is no information about his age, so the claim is uncertain given the text.', 'neutral', null],
  ];
  for (const [completion, label, rationale] of cases) {
    const answer = parser.parse(completion, madeUpExample());
    assert.equal(answer.status, 'parsed', completion);
    assert.equal(answer.label, label, completion);
    if (rationale !== null) assert.equal(answer.rationale, rationale, completion);
  }
});

test('NLI zero-shot: "no" inside the explanation is not taken for a label', () => {
  const answer = create('nli-zero-shot').parse('There is no mention of the weather in the premise at all.', madeUpExample());
  assert.equal(answer.status, 'unparsed');
});

test('label-given answers: the label after "The hypothesis is", the rationale after "because"', () => {
  const answer = create('nli-label-given').parse(
    'The hypothesis is "contradiction" towards the premise, because the premise says the store opened in London.',
    madeUpExample(),
  );
  assert.deepEqual(answer, { status: 'parsed', label: 'contradiction', rationale: 'the premise says the store opened in London.' });
});

test('CQA zero-shot answers: letter or stated answer mapped to the choice text', () => {
  const choices = ['british columbia', 'body of water', 'wooded area', 'pay debts', 'zoo'];
  const example = madeUpExample({ choices });
  const parser = create('cqa-zero-shot');
  assert.deepEqual(parser.parse('c) wooded area. Beavers gather branches and logs from forests.', example), {
    status: 'parsed',
    label: 'wooded area',
    rationale: 'Beavers gather branches and logs from forests.',
  });
  assert.equal(parser.parse('The correct answer is (c) wooded area because beavers use trees.', example).label, 'wooded area');
  assert.equal(parser.parse('The correct answer is c. Beavers cut trees in wooded areas.', example).label, 'wooded area');
  assert.equal(parser.parse('The answer is wooded area, since beavers build with wood from trees.', example).label, 'wooded area');
  assert.equal(parser.parse('Beavers take their supplies from a body of water where they live.', example).label, 'body of water');
  const vague = parser.parse('The answer is a place near trees and water.', example);
  assert.equal(vague.status, 'unparsed');
});

test('SVAMP zero-shot answers: the final number, commas and dollars dropped', () => {
  const parser = create('svamp-zero-shot');
  const steps = 'Step 1: There are 45 flower beds.\nStep 2: Each bed has 10 seeds, so 45 * 10 = 450.\n';
  assert.equal(parser.parse(`${steps}Final answer: 450 seeds.`, madeUpExample()).label, '450');
  assert.equal(parser.parse(`${steps}The answer is $1,250.`, madeUpExample()).label, '1250');
  assert.equal(parser.parse(`${steps}So they planted 450 seeds in total.`, madeUpExample()).label, '450');
  const answer = parser.parse(`${steps}**Final answer: 450**`, madeUpExample());
  assert.match(answer.rationale!, /^Step 1: There are 45 flower beds\. Step 2: .* = 450\.$/);
  assert.equal(parser.parse('I do not know how to solve this one.', madeUpExample()).status, 'unparsed');
});
