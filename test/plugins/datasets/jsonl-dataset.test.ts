import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dataset, DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import { UserError } from '../../../core/errors/user-error.js';
import { jsonlDataset, type JsonlDatasetOptions } from '../../../plugins/datasets/jsonl/jsonl-dataset.js';
import { testPath } from '../../support/paths.js';
import { testDependencies } from './test-dependencies.js';

const fixtures = testPath('plugins', 'datasets', 'fixtures');
const nli: JsonlDatasetOptions = {
  files: { train: 'train.jsonl', test: 'test.csv' },
  id_field: 'pair_id',
  label_field: 'gold',
  fields: { premise: 'sentence1', hypothesis: 'sentence2' },
  student_input: '{premise} </s> {hypothesis}',
  labels: ['entailment', 'neutral', 'contradiction'],
};

async function all(dataset: Dataset, split: string): Promise<DatasetExample[]> {
  const examples: DatasetExample[] = [];
  for await (const example of dataset.read(split)) examples.push(example);
  return examples;
}

test('JSON Lines: fields mapped, label ids mapped to the label list, ids from id_field, blank lines skipped', async () => {
  const dataset = await jsonlDataset.create(nli, testDependencies(fixtures));
  assert.deepEqual(dataset.splits, ['train', 'test']);
  assert.deepEqual(dataset.fields, ['premise', 'hypothesis']);
  const examples = await all(dataset, 'train');
  assert.deepEqual(
    examples.map((example) => [example.id, example.split, example.goldLabel]),
    [
      ['train/p1', 'train', 'entailment'],
      ['train/p2', 'train', 'neutral'],
      ['train/p3', 'train', 'contradiction'],
    ],
  );
  assert.deepEqual(examples[2]!.fields, { premise: 'A child reads a {big} book.', hypothesis: 'Nobody is reading.' });
  assert.equal(dataset.studentInput(examples[0]!), 'A man sleeps on a bench. </s> A person is resting.');
  assert.equal(
    dataset.studentInput(examples[2]!),
    'A child reads a {big} book. </s> Nobody is reading.',
    'braces in values are not placeholders',
  );
  assert.deepEqual(dataset.sourceFiles('train'), [testPath('plugins', 'datasets', 'fixtures', 'train.jsonl')]);
});

test('CSV: quoted fields with doubled quotes, commas and line breaks', async () => {
  const dataset = await jsonlDataset.create(nli, testDependencies(fixtures));
  const examples = await all(dataset, 'test');
  assert.deepEqual(
    examples.map((example) => [example.id, example.fields.premise, example.goldLabel]),
    [
      ['test/q1', 'She said "wait", then left.', 'entailment'],
      ['test/q2', 'Line one\nline two, with a comma', 'neutral'],
    ],
  );
});

test('without a mapping every column but id and label is a field; without id_field ids are positions', async () => {
  const dataset = await jsonlDataset.create({ files: { train: 'train.jsonl' }, label_field: 'gold' }, testDependencies(fixtures));
  assert.deepEqual(dataset.fields, ['pair_id', 'sentence1', 'sentence2']);
  const examples = await all(dataset, 'train');
  assert.deepEqual(
    examples.map((example) => example.id),
    ['train/0', 'train/1', 'train/2'],
  );
  assert.equal(examples[0]!.goldLabel, '0', 'no label list: the label is kept as written');
  assert.equal(dataset.studentInput(examples[0]!), 'p1\nA man sleeps on a bench.\nA person is resting.');
  assert.equal(dataset.labels, null);
});

test('ids are stable: two reads give the same ids in the same order', async () => {
  const dataset = await jsonlDataset.create(nli, testDependencies(fixtures));
  assert.deepEqual(
    (await all(dataset, 'test')).map((example) => example.id),
    (await all(dataset, 'test')).map((example) => example.id),
  );
});

test('a missing file is a UserError naming the path and what to check', async () => {
  await assert.rejects(
    Promise.resolve(jsonlDataset.create({ files: { train: 'train.jsonl', test: 'nowhere/test.jsonl' } }, testDependencies(fixtures))),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(
        error.problems[0]!.message,
        `data file of split "test" not found: ${testPath('plugins', 'datasets', 'fixtures', 'nowhere', 'test.jsonl')}`,
      );
      assert.match(error.problems[0]!.fix!, /check files\.test/);
      return true;
    },
  );
});

test('a student_input placeholder that is not a field is reported with a did-you-mean', async () => {
  await assert.rejects(
    Promise.resolve(jsonlDataset.create({ ...nli, student_input: '{premise} </s> {hypotesis}' }, testDependencies(fixtures))),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.problems[0]!.message, 'student_input uses {hypotesis}, which is not a field of this dataset');
      assert.equal(error.problems[0]!.fix, 'did you mean "hypothesis"? fields: premise, hypothesis');
      return true;
    },
  );
});

test('an unknown format, a bad JSON line and an unknown split are UserErrors', async () => {
  await assert.rejects(
    Promise.resolve(jsonlDataset.create({ files: { train: 'train.txt' } }, testDependencies(fixtures))),
    /cannot tell the format of train\.txt/,
  );
  const broken = await jsonlDataset.create({ files: { train: 'broken.jsonl' } }, testDependencies(fixtures));
  await assert.rejects(
    all(broken, 'train'),
    (error: unknown) => error instanceof UserError && error.problems[0]!.line === 2 && /is not valid JSON/.test(error.message),
  );
  const dataset = await jsonlDataset.create(nli, testDependencies(fixtures));
  await assert.rejects(
    all(dataset, 'tset'),
    (error: unknown) => error instanceof UserError && error.problems[0]!.fix === 'did you mean "test"? splits: train, test',
  );
});
