import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import { holdOutValidation } from '../../../core/training/split-roles.js';
import { applySamplers, imputedLabelFor, sampleItemsFromRecords, trainingExamplesFromItems } from '../../../core/training/training-data.js';
import { rationaleRateSampler } from '../../../plugins/samplers/rationale-rate/rationale-rate-sampler.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { sharedDataMissing } from '../../support/paths.js';
import { selfConsistencyRecords } from './self-consistency-records.js';

function record(index: number, teacherLabel: string | null, rationale: string | null): TeacherRecord {
  return {
    id: `esnli/valid/${index}`,
    split: 'valid',
    fields: {},
    student_input: `a premise ${index} </s> a hypothesis`,
    gold_label: 'entailment',
    teacher_label: teacherLabel,
    rationale,
    parse_status: teacherLabel === null ? 'unparsed' : 'parsed',
    reason: null,
    raw_text: null,
    prompt_tokens: 0,
    completion_tokens: 0,
    cost_usd: 0,
    cached: true,
  };
}

test('a missing teacher label is imputed (NLI: neutral, others blank); a missing rationale becomes an empty target', () => {
  assert.equal(imputedLabelFor(['entailment', 'neutral', 'contradiction']), 'neutral');
  assert.equal(imputedLabelFor(null), '');
  const items = sampleItemsFromRecords(
    [record(0, 'contradiction', 'The man cannot sleep and run at once.'), record(1, null, null), record(2, 'entailment', '   ')],
    'neutral',
  );
  assert.deepEqual(
    items.map((item) => [item.label, item.teacherLabel, item.goldLabel, item.rationale]),
    [
      ['contradiction', 'contradiction', 'entailment', 'The man cannot sleep and run at once.'],
      ['neutral', 'neutral', 'entailment', null],
      ['entailment', 'entailment', 'entailment', null],
    ],
  );
  assert.deepEqual(
    trainingExamplesFromItems(items).map((example) => [example.input, example.label, example.rationale]),
    [
      ['a premise 0 </s> a hypothesis', 'contradiction', 'The man cannot sleep and run at once.'],
      ['a premise 1 </s> a hypothesis', 'neutral', ''],
      ['a premise 2 </s> a hypothesis', 'entailment', ''],
    ],
  );
});

test('samplers run in order on the items, with the pipeline seed', async () => {
  const records = Array.from({ length: 500 }, (_, index) => record(index, 'entailment', `reason ${index} is long enough`));
  const dropAll = await rationaleRateSampler.create({ rate: 0 }, {} as PluginDependencies);
  const items = applySamplers(sampleItemsFromRecords(records, 'neutral'), [dropAll], 3);
  assert.equal(items.length, 500);
  assert.ok(trainingExamplesFromItems(items).every((example) => example.rationale === ''));
});

test('the validation hold-out is seeded, disjoint from training and stable under reordering', () => {
  const records = Array.from({ length: 1000 }, (_, index) => record(index, 'entailment', null));
  const { train, validation } = holdOutValidation(records, 0.1, 42, (each) => each.id);
  assert.equal(validation.length, 100);
  assert.equal(train.length, 900);
  const validationIds = new Set(validation.map((each) => each.id));
  assert.ok(train.every((each) => !validationIds.has(each.id)));
  const again = holdOutValidation([...records].reverse(), 0.1, 42, (each) => each.id);
  assert.deepEqual(new Set(again.validation.map((each) => each.id)), validationIds);
  const otherSeed = holdOutValidation(records, 0.1, 43, (each) => each.id);
  assert.notDeepEqual(new Set(otherSeed.validation.map((each) => each.id)), validationIds);
});

test('grouped examples are held out whole: no validation premise is one the student trained on', () => {
  // Three hypotheses per premise, as in e-SNLI.
  const records = Array.from({ length: 300 }, (_, index) => record(index, 'entailment', null));
  const premiseOf = (each: (typeof records)[number]) => `premise ${Math.floor(Number(each.id.split('/').at(-1) ?? each.id) / 3)}`;
  const { train, validation } = holdOutValidation(records, 0.1, 42, premiseOf);
  assert.equal(validation.length, 30, 'ten whole premises');
  const heldPremises = new Set(validation.map(premiseOf));
  assert.equal(heldPremises.size, 10);
  assert.ok(train.every((each) => !heldPremises.has(premiseOf(each))));
});

test(
  'self-consistency: items carry the confidence and the agreeing rationales, each once, longest first',
  { skip: sharedDataMissing() },
  async () => {
    const records = await selfConsistencyRecords(40);
    const items = sampleItemsFromRecords(records, 'neutral');
    for (const [index, item] of items.entries()) {
      const record = records[index]!;
      assert.equal(item.confidence, record.confidence ?? null);
      if (!record.samples) {
        assert.equal(item.agreeingRationales, undefined, 'one answer: no agreeing rationales');
        continue;
      }
      const expected = [
        ...new Set(
          record.samples.filter((sample) => sample.label === record.teacher_label && sample.rationale).map((sample) => sample.rationale!),
        ),
      ].sort((left, right) => right.length - left.length);
      assert.deepEqual(item.agreeingRationales, expected);
      // The real rationale is two of the agreeing answers where 3 or more agree: it is kept once.
      assert.equal(item.agreeingRationales.filter((rationale) => rationale === record.rationale).length, 1);
      assert.ok(
        item.agreeingRationales.every((rationale, position, all) => position === 0 || all[position - 1]!.length >= rationale.length),
      );
      assert.ok(
        !item.agreeingRationales.some((rationale) =>
          record.samples!.some((sample) => sample.rationale === rationale && sample.label !== record.teacher_label),
        ),
        'no rationale of a disagreeing answer',
      );
    }
    assert.ok(items.some((item) => item.agreeingRationales?.length === 2));
    // An imputed label has no confidence: no answer supports it.
    const unparsed = { ...records[0]!, teacher_label: null, confidence: 0.4 };
    assert.deepEqual(
      [sampleItemsFromRecords([unparsed], 'neutral')[0]!.confidence, sampleItemsFromRecords([unparsed], 'neutral')[0]!.agreeingRationales],
      [null, undefined],
    );
  },
);

test('training examples carry a weight only where the loss weight gives one', () => {
  const items = sampleItemsFromRecords(
    [record(0, 'entailment', 'reason one is here'), { ...record(1, 'neutral', null), confidence: 0.6 }],
    'neutral',
  );
  assert.deepEqual(
    trainingExamplesFromItems(items).map((example) => Object.keys(example)),
    [
      ['id', 'input', 'label', 'rationale'],
      ['id', 'input', 'label', 'rationale'],
    ],
  );
  assert.deepEqual(
    trainingExamplesFromItems(items, (item) => item.confidence ?? 1).map((example) => example.weight),
    [1, 0.6],
  );
  assert.throws(() => trainingExamplesFromItems(items, () => Number.NaN), /weights must be finite and at least 0/);
});
