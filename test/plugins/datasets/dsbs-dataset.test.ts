import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Dataset, DatasetExample, WorkedExample } from '../../../core/plugins/kinds/dataset.js';
import { UserError } from '../../../core/errors/user-error.js';
import { cleanRationale } from '../../../core/parsing/rationale-cleaning.js';
import { dsbsDataset } from '../../../plugins/datasets/dsbs/dsbs-dataset.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../../support/paths.js';
import { testDependencies } from './test-dependencies.js';

const skip = sharedDataMissing();

async function first(dataset: Dataset, split: string, count = 1): Promise<DatasetExample[]> {
  const examples: DatasetExample[] = [];
  for await (const example of dataset.read(split)) {
    examples.push(example);
    if (examples.length === count) break;
  }
  return examples;
}

test('cqa: fields, the answer text as gold, the lettered student input, its own ids', { skip }, async () => {
  const dataset = await dsbsDataset.create(
    { name: 'cqa', root: path.relative(repositoryRoot, dsbsDirectory) },
    testDependencies(repositoryRoot),
  );
  assert.deepEqual(dataset.splits, ['train', 'test']);
  assert.equal(dataset.labels, null);
  const [example] = await first(dataset, 'test');
  assert.equal(example!.id, 'cqa/test/080ef6941410139d6869e78122bc741e');
  assert.equal(example!.goldLabel, 'wooded area');
  assert.deepEqual(Object.keys(example!.fields), [...dataset.fields]);
  assert.equal(example!.fields.c, 'wooded area');
  assert.equal(
    dataset.studentInput(example!),
    'A beaver is know for building prowess, their supplies come from where?\nAnswer Choices:\n(a) british columbia\n(b) body of water\n(c) wooded area\n(d) pay debts\n(e) zoo',
  );
  assert.deepEqual(dataset.sourceFiles('train'), [path.join(dsbsDirectory, 'cqa', 'cqa_train.json')]);
});

test('esnli and anli1: valid/test splits, label ids as NLI words, premise </s> hypothesis', { skip }, async () => {
  const esnli = await dsbsDataset.create({ name: 'esnli', root: dsbsDirectory }, testDependencies(repositoryRoot));
  assert.deepEqual(esnli.splits, ['valid', 'test']);
  assert.deepEqual(esnli.labels, ['entailment', 'neutral', 'contradiction']);
  const [neutral, entailment] = await first(esnli, 'test', 2);
  assert.deepEqual(
    [neutral!.id, neutral!.goldLabel, entailment!.id, entailment!.goldLabel],
    ['esnli/test/0', 'neutral', 'esnli/test/1', 'entailment'],
  );
  assert.equal(
    esnli.studentInput(neutral!),
    'This church choir sings to the masses as they sing joyous songs from the book at a church. </s> The church has cracks in the ceiling.',
  );
  assert.deepEqual(Object.keys(neutral!.fields), [...esnli.fields]);

  const anli1 = await dsbsDataset.create({ name: 'anli1', root: dsbsDirectory }, testDependencies(repositoryRoot));
  const [valid] = await first(anli1, 'valid');
  assert.equal(valid!.id, 'anli1/valid/bf628cf5-6948-4595-a6d0-daf99beb47b9');
  assert.equal(valid!.goldLabel, 'contradiction');
  assert.match(String(valid!.fields.reason), /^Linguistics involves an analysis/);
});

test(
  "student_input: a {field} template replaces the paper's input; an unknown field is a UserError with the fields",
  { skip },
  async () => {
    const esnli = await dsbsDataset.create(
      { name: 'esnli', root: dsbsDirectory, student_input: 'Premise: {premise}\nHypothesis: {hypothesis}' },
      testDependencies(repositoryRoot),
    );
    const [neutral] = await first(esnli, 'test');
    assert.equal(
      esnli.studentInput(neutral!),
      'Premise: This church choir sings to the masses as they sing joyous songs from the book at a church.\nHypothesis: The church has cracks in the ceiling.',
    );
    await assert.rejects(
      Promise.resolve().then(() =>
        dsbsDataset.create(
          { name: 'esnli', root: dsbsDirectory, student_input: '{premise} / {hypothesys}' },
          testDependencies(repositoryRoot),
        ),
      ),
      (error: unknown) =>
        error instanceof UserError && /\{hypothesys\}/.test(error.message) && /hypothesis/.test(error.problems[0]!.fix ?? ''),
    );
  },
);

test('svamp: the whole problem is {question}, split into body and final question; the equation is gold', { skip }, async () => {
  const dataset = await dsbsDataset.create({ name: 'svamp', root: dsbsDirectory }, testDependencies(repositoryRoot));
  const [example] = await first(dataset, 'train');
  assert.equal(example!.id, 'svamp/train/0');
  assert.equal(example!.goldLabel, '( 84.0 / 2.0 )');
  assert.equal(
    example!.fields.body,
    'Luke scored 84 points after playing 2 rounds of a trivia game. If he gained the same number of points each round',
  );
  assert.equal(example!.fields.final_question, 'How many points did he score per round?');
  assert.equal(dataset.studentInput(example!), `${example!.fields.body}\n${example!.fields.final_question}`);
  assert.equal(example!.fields.question, dataset.studentInput(example!));
});

test('a whole split streams with unique, stable ids and the record count of the manifest', { skip }, async () => {
  const dataset = await dsbsDataset.create({ name: 'anli1', root: dsbsDirectory }, testDependencies(repositoryRoot));
  const ids = (await first(dataset, 'test', Number.POSITIVE_INFINITY)).map((example) => example.id);
  assert.equal(ids.length, 1000);
  assert.equal(new Set(ids).size, 1000);
  assert.deepEqual(
    (await first(dataset, 'test', 3)).map((example) => example.id),
    ids.slice(0, 3),
  );
});

test('root defaults to DISTILL_DSBS_DIR; neither given is a UserError naming both', { skip }, async () => {
  const dataset = await dsbsDataset.create({ name: 'svamp' }, testDependencies('/', { DISTILL_DSBS_DIR: dsbsDirectory }));
  assert.equal((await first(dataset, 'test'))[0]!.id, 'svamp/test/0');
  assert.throws(
    () => dsbsDataset.create({ name: 'svamp' }, testDependencies('/')),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.equal(error.problems[0]!.plugin, 'dataset/dsbs');
      assert.match(
        error.problems[0]!.fix!,
        /set DISTILL_DSBS_DIR to the folder holding anli1\/.*: export DISTILL_DSBS_DIR=.*; or set the option root/,
      );
      return true;
    },
  );
});

test('a missing gold file is a UserError naming the path; an unknown split lists the splits', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'dsbs-'));
  try {
    await mkdir(path.join(root, 'cqa'));
    const dataset = await dsbsDataset.create({ name: 'cqa', root }, testDependencies(repositoryRoot));
    await assert.rejects(
      first(dataset, 'test'),
      (error: unknown) =>
        error instanceof UserError && error.message === `gold file of cqa/test not found: ${path.join(root, 'cqa', 'cqa_test.json')}`,
    );
    await assert.rejects(
      first(dataset, 'valid'),
      (error: unknown) => error instanceof UserError && error.problems[0]!.fix === 'use one of: train, test',
    );
    assert.throws(
      () => dsbsDataset.create({ name: 'cqa', root: path.join(root, 'absent') }, testDependencies(repositoryRoot)),
      /dsbs data folder not found/,
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/** The worked examples of a split, all of them or the first `count`. */
async function worked(dataset: Dataset, split: string, count = Number.POSITIVE_INFINITY): Promise<WorkedExample[]> {
  const examples: WorkedExample[] = [];
  if (count <= 0) return examples;
  for await (const example of dataset.workedExamples!(split)) {
    examples.push(example);
    if (examples.length >= count) break;
  }
  return examples;
}

test('worked examples: the usable human explanations in file order, each with its gold label', { skip }, async () => {
  const dependencies = testDependencies(repositoryRoot);
  const esnli = await dsbsDataset.create({ name: 'esnli', root: dsbsDirectory }, dependencies);
  const [firstEsnli] = await worked(esnli, 'valid', 1);
  const [firstValid] = await first(esnli, 'valid');
  assert.equal(firstEsnli!.example.id, firstValid!.id, "e-SNLI's first record explains itself");
  assert.equal(firstEsnli!.label, firstValid!.goldLabel);
  assert.equal(firstEsnli!.rationale, cleanRationale(String(firstValid!.fields.explanation_1)));

  const cqa = await dsbsDataset.create({ name: 'cqa', root: dsbsDirectory }, dependencies);
  const cqaWorked = await worked(cqa, 'train', 50);
  assert.equal(cqaWorked.length, 50);
  for (const { example, label, rationale } of cqaWorked) {
    assert.equal(label, example.goldLabel);
    assert.ok(rationale.toLowerCase().includes(label.toLowerCase()), `a cos_e explanation shown names its answer: ${rationale}`);
    assert.ok(rationale.split(/\s+/).length >= 10, `and is a whole sentence of reasoning: ${rationale}`);
  }
  const trainIds = (await first(cqa, 'train', 400)).map((example) => example.id);
  const positions = cqaWorked.map(({ example }) => trainIds.indexOf(example.id));
  assert.ok(
    positions.every((position, index) => position >= 0 && (index === 0 || position > positions[index - 1]!)),
    'in file order',
  );
  assert.ok(positions.at(-1)! > 49, 'poor explanations are left out');

  const anli1 = await dsbsDataset.create({ name: 'anli1', root: dsbsDirectory }, dependencies);
  for (const { rationale } of await worked(anli1, 'valid', 40)) {
    assert.doesNotMatch(rationale, /\b(system|model|fooled|tricked)\b/i, 'remarks about fooling the model are not reasoning');
  }
});

test('worked examples of SVAMP: the hand-written train problems only; an unknown split lists the splits', { skip }, async () => {
  const svamp = await dsbsDataset.create({ name: 'svamp', root: dsbsDirectory }, testDependencies(repositoryRoot));
  const train = await worked(svamp, 'train');
  assert.deepEqual(
    train.map(({ example }) => example.id),
    [0, 1, 2, 3, 4, 5, 6, 7, 9].map((index) => `svamp/train/${index}`),
  );
  assert.equal(train[0]!.label, '( 84.0 / 2.0 )');
  assert.match(train[0]!.rationale, /^Luke scored 84 points in 2 rounds/);
  assert.deepEqual(
    await worked(svamp, 'test'),
    [],
    'the reasoning was written for train problems, not for the test problems at those lines',
  );
  await assert.rejects(
    worked(svamp, 'valid'),
    (error: unknown) => error instanceof UserError && error.problems[0]!.fix === 'use one of: train, test',
  );
});

test('named datasets for distill eval, and the completion length measured for two of them', async () => {
  assert.deepEqual(Object.keys(dsbsDataset.namedDatasets).sort(), ['anli1', 'cqa', 'esnli', 'svamp']);
  assert.deepEqual(dsbsDataset.namedDatasets.esnli!.options('/data/dsbs'), { name: 'esnli', root: '/data/dsbs' });
  assert.deepEqual(dsbsDataset.namedDatasets.cqa!.options(undefined), { name: 'cqa' });
  assert.equal(dsbsDataset.namedDatasets.svamp!.metric, 'numeric-equality', 'equations are scored by their value');
  assert.equal(dsbsDataset.namedDatasets.anli1!.metric, 'exact-match');
  const dependencies = testDependencies('/', { DISTILL_DSBS_DIR: os.tmpdir() });
  const measured = async (name: 'anli1' | 'cqa' | 'esnli' | 'svamp') =>
    (await dsbsDataset.create({ name }, dependencies)).expectedCompletionTokens;
  assert.deepEqual(await measured('cqa'), { tokens: 28, source: 'mean measured for cqa (zero-shot paper)' });
  assert.deepEqual(await measured('anli1'), { tokens: 61, source: 'mean measured for anli1 (zero-shot paper)' });
  assert.equal(await measured('esnli'), undefined);
});
