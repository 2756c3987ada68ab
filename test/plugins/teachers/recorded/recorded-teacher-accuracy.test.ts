import assert from 'node:assert/strict';
import { test } from 'node:test';
import { labelKey } from '../../../../core/parsing/label-normalisation.js';
import type { Evaluator } from '../../../../core/plugins/kinds/evaluator.js';
import { exactMatchEvaluator } from '../../../../plugins/evaluators/exact-match/exact-match-evaluator.js';
import { numericEqualityEvaluator } from '../../../../plugins/evaluators/numeric-equality/numeric-equality-evaluator.js';
import { dsbsDataset } from '../../../../plugins/datasets/dsbs/dsbs-dataset.js';
import { palmParser } from '../../../../plugins/parsers/palm/palm-parser.js';
import { recordedTeacher } from '../../../../plugins/teachers/recorded/recorded-teacher.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../../../support/paths.js';
import { testDependencies } from '../../datasets/test-dependencies.js';

/**
 * Teacher accuracy (percent) and mean rationale length (words) from ../shared/data/README.md,
 * measured there with the original Distilling Step-by-Step parsing rules.
 */
const expected = [
  { dataset: 'cqa', split: 'train', accuracy: 74.3, words: 24 },
  { dataset: 'cqa', split: 'test', accuracy: 77.2, words: 24 },
  { dataset: 'svamp', split: 'train', accuracy: 73.5, words: 28 },
  { dataset: 'svamp', split: 'test', accuracy: 74.0, words: 28 },
  { dataset: 'esnli', split: 'test', accuracy: 73.0, words: 10.5 },
  { dataset: 'esnli', split: 'valid', accuracy: 73.2, words: 10.5 },
  { dataset: 'anli1', split: 'test', accuracy: 65.6, words: 20 },
  { dataset: 'anli1', split: 'valid', accuracy: 66.8, words: 20 },
] as const;

for (const { dataset: name, split, accuracy, words } of expected) {
  test(`recorded PaLM teacher on ${name}/${split}: accuracy ${accuracy}% within 0.5 points`, { skip: sharedDataMissing() }, async () => {
    const dependencies = testDependencies(repositoryRoot);
    const root = dsbsDirectory;
    const dataset = await dsbsDataset.create({ name, root }, dependencies);
    const teacher = await recordedTeacher.create({ source: 'dsbs', dataset: name, root }, dependencies);
    // The README's figures come from the original code: PaLM's spelling kept, strings compared case-sensitively.
    const originalParser = await palmParser.create({ dataset: name, choice_spelling: 'as-written' }, dependencies);
    const defaultParser = await palmParser.create({ dataset: name }, dependencies);
    const [originalEvaluator, defaultEvaluator]: Evaluator[] =
      name === 'svamp'
        ? [await numericEqualityEvaluator.create({}, dependencies), await numericEqualityEvaluator.create({}, dependencies)]
        : [await exactMatchEvaluator.create({ ignore_case: false }, dependencies), await exactMatchEvaluator.create({}, dependencies)];
    const signal = new AbortController().signal;

    let total = 0;
    let correct = 0;
    let correctByDefault = 0;
    let rationaleWords = 0;
    let withRationale = 0;
    let unparsed = 0;
    for await (const example of dataset.read(split)) {
      const response = await teacher.complete(
        { exampleId: example.id, split, messages: [{ role: 'user', content: dataset.studentInput(example) }] },
        signal,
      );
      const original = originalParser.parse(response.text, example);
      const answer = defaultParser.parse(response.text, example);
      total++;
      const right = original.status === 'parsed' && originalEvaluator!.score(original.label, example.goldLabel!) === 1;
      const rightByDefault = answer.status === 'parsed' && defaultEvaluator!.score(answer.label, example.goldLabel!) === 1;
      if (right) correct++;
      if (rightByDefault) correctByDefault++;
      if (rightByDefault && !right) {
        // The only gain the defaults may bring: PaLM's "Michigan" or "chair," for the choice "michigan" or "chair".
        assert.equal(
          labelKey(original.label ?? ''),
          labelKey(example.goldLabel!),
          `${example.id}: default parsing gained an answer for another reason than case or punctuation`,
        );
      }
      assert.ok(!right || rightByDefault, `${example.id}: right by the original rules but wrong by the defaults`);
      if (answer.status === 'unparsed') {
        unparsed++;
        assert.ok(answer.reason.length > 0, 'an unparsed answer says why');
      }
      if (answer.rationale !== null) {
        withRationale++;
        rationaleWords += answer.rationale.split(/\s+/).length;
      }
    }
    const measured = (100 * correct) / total;
    const meanWords = rationaleWords / withRationale;
    console.log(
      `${name}/${split}: ${total} examples, accuracy ${measured.toFixed(2)}% (original rules), ${((100 * correctByDefault) / total).toFixed(2)}% (defaults), ` +
        `unparsed ${unparsed}, explanation rate ${((100 * withRationale) / total).toFixed(1)}%, mean rationale ${meanWords.toFixed(1)} words`,
    );
    assert.ok(
      Math.abs(measured - accuracy) <= 0.5,
      `accuracy ${measured.toFixed(2)}% differs from the README's ${accuracy}% by more than 0.5 points`,
    );
    // Rationales under 5 words are dropped by cleaning, so the mean over kept ones sits a little above the README's.
    assert.ok(
      meanWords >= words * 0.9 && meanWords <= words * 1.25,
      `mean rationale length ${meanWords.toFixed(1)} words is far from the README's ${words}`,
    );
  });
}
