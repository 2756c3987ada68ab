import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Dataset, DatasetExample } from '../../core/plugins/kinds/dataset.js';
import { loadPipeline } from '../../plugins/index.js';
import { testDependencies } from '../plugins/datasets/test-dependencies.js';
import { markdownFiles, writeMarkdownFiles } from '../support/markdown-files.js';
import { startProviderServer } from '../support/provider-server.js';
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

test('the guide’s pipeline runs end to end against a loopback OpenAI-compatible server', { timeout: 300_000 }, async (context) => {
  const directory = temporaryDirectory(context);
  writeMarkdownFiles(guide, directory);
  // A teacher that answers as the guide's prompt asks: the label word, then one sentence.
  const server = await startProviderServer('openai', (request) => {
    const label = /broke|leaks/.test(request.prompt) ? 'negative' : /kettle/.test(request.prompt) ? 'neutral' : 'positive';
    return { kind: 'answer', text: `${label}. The words of the review show that the buyer feels ${label} about it.` };
  });
  context.after(() => server.close());
  // The one change a reader makes to use a local server instead of OpenAI's: base_url and a key.
  const pipeline = path.join(directory, 'pipeline.yaml');
  const text = readFileSync(pipeline, 'utf8');
  assert.ok(text.includes('    max_tokens: 128\n'));
  writeFileSync(
    pipeline,
    text.replace('    max_tokens: 128\n', `    max_tokens: 128\n    base_url: ${server.baseUrl}\n    api_key: local-key\n`),
  );

  const result = await runDistill(['run', pipeline], { DISTILL_CACHE_DIR: directory }, 280_000);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const reviews = markdownFiles(guide)
    .find((file) => file.name === 'data/train.jsonl')!
    .text.trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { text: string }).text);
  assert.deepEqual(
    reviews.map((review) => server.requests.filter((request) => request.prompt.includes(`Review: ${review}`)).length),
    [1, 1, 1, 1, 1],
    'the teacher was asked once about each training review, with the guide’s prompt',
  );
  assert.ok(existsSync(path.join(directory, 'runs', 'reviews', 'report.html')), 'the run wrote its report beside the pipeline');
});
