import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import type { Dataset, DatasetExample } from '../../core/plugins/kinds/dataset.js';
import { loadPipeline } from '../../plugins/index.js';
import { testDependencies } from '../plugins/datasets/test-dependencies.js';
import { writeMarkdownFiles } from '../support/markdown-files.js';
import { runDistill } from '../support/run-distill.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// docs/your-own-data.md's pipelines and data files, written out as a reader would copy them.

const guide = 'your-own-data.md';

async function all(dataset: Dataset, split: string): Promise<DatasetExample[]> {
  const examples: DatasetExample[] = [];
  for await (const example of dataset.read(split)) examples.push(example);
  return examples;
}

test('the guide holds both pipelines and their data files', (context) => {
  const names = writeMarkdownFiles(guide, temporaryDirectory(context));
  assert.deepEqual(names.sort(), [
    'data/test.csv',
    'data/test.jsonl',
    'data/train.csv',
    'data/train.jsonl',
    'pipeline-csv.yaml',
    'pipeline.yaml',
  ]);
});

test('distill validate accepts the guide’s JSON Lines and CSV pipelines as written', async (context) => {
  const directory = temporaryDirectory(context);
  writeMarkdownFiles(guide, directory);
  const result = await runDistill(['validate', path.join(directory, 'pipeline.yaml'), path.join(directory, 'pipeline-csv.yaml')]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout.match(/✓/g)?.length, 2, result.stdout);
});

test('the guide’s data reads as it says: five examples a split, gold labels, the student input', async (context) => {
  const directory = temporaryDirectory(context);
  writeMarkdownFiles(guide, directory);
  const read: Record<string, { train: DatasetExample[]; test: DatasetExample[]; input: string }> = {};
  for (const file of ['pipeline.yaml', 'pipeline-csv.yaml']) {
    const { config, registry, baseDirectory } = await loadPipeline(path.join(directory, file));
    const descriptor = registry.get('dataset', config.dataset.use);
    const dataset = (await descriptor.create(config.dataset.options, testDependencies(baseDirectory))) as Dataset;
    assert.deepEqual(dataset.labels, ['positive', 'negative', 'neutral']);
    assert.deepEqual(dataset.fields, ['review']);
    const train = await all(dataset, config.dataset.splits.train);
    read[file] = { train, test: await all(dataset, config.dataset.splits.test), input: dataset.studentInput(train[0]!) };
  }
  for (const { train, test, input } of Object.values(read)) {
    assert.equal(train.length, 5);
    assert.equal(test.length, 5);
    assert.equal(input, 'Review: Arrived quickly and works perfectly.');
    assert.deepEqual(
      train.map((example) => [example.id, example.goldLabel]),
      [
        ['train/r1', 'positive'],
        ['train/r2', 'negative'],
        ['train/r3', 'neutral'],
        ['train/r4', 'positive'],
        ['train/r5', 'negative'],
      ],
    );
  }
  // The CSV shows quoting: a comma and doubled quotes inside quoted cells.
  assert.equal(read['pipeline-csv.yaml']!.train[3]!.fields.review, 'Best purchase I have made this year, "ten out of ten"!');
});
