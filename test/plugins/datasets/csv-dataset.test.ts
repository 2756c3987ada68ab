import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Dataset, DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import { UserError } from '../../../core/errors/user-error.js';
import { CsvParser } from '../../../core/parsing/csv.js';
import { csvDataset, type CsvDatasetOptions } from '../../../plugins/datasets/csv/csv-dataset.js';
import { jsonlDataset } from '../../../plugins/datasets/jsonl/jsonl-dataset.js';
import { testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testDependencies } from './test-dependencies.js';

const fixtures = testPath('plugins', 'datasets', 'fixtures');
const nli: CsvDatasetOptions = {
  files: { test: 'test.csv' },
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

/** The UserError a dataset over one CSV text gives, read to its end. */
async function problemOf(directory: string, text: string, options: Partial<CsvDatasetOptions> = {}) {
  const file = path.join(directory, 'data.csv');
  writeFileSync(file, text);
  try {
    const dataset = await csvDataset.create({ files: { train: 'data.csv' }, ...options }, testDependencies(directory));
    await all(dataset, 'train');
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return { problem: error.problems[0]!, file };
  }
  assert.fail('the CSV was read without an error');
}

test('quoted cells with doubled quotes, commas and line breaks; label ids read through labels; the student input filled', async () => {
  const dataset = await csvDataset.create(nli, testDependencies(fixtures));
  assert.deepEqual(dataset.fields, ['premise', 'hypothesis']);
  assert.deepEqual(dataset.labels, nli.labels);
  const examples = await all(dataset, 'test');
  assert.deepEqual(
    examples.map((example) => [example.id, example.fields.premise, example.goldLabel]),
    [
      ['test/q1', 'She said "wait", then left.', 'entailment'],
      ['test/q2', 'Line one\nline two, with a comma', 'neutral'],
    ],
  );
  assert.equal(dataset.studentInput(examples[0]!), 'She said "wait", then left. </s> A woman spoke.');
  assert.deepEqual(dataset.sourceFiles('test'), [path.join(fixtures, 'test.csv')]);
});

test('the csv and jsonl datasets make the same examples of the same CSV file (one shared record-to-example path)', async () => {
  const fromCsv = await all(await csvDataset.create(nli, testDependencies(fixtures)), 'test');
  const fromJsonl = await all(await jsonlDataset.create(nli, testDependencies(fixtures)), 'test');
  assert.deepEqual(fromCsv, fromJsonl);
});

test('a semicolon separator, CRLF line ends, a byte order mark; without fields every column but id and label is a field', async (context) => {
  const directory = temporaryDirectory(context);
  writeFileSync(path.join(directory, 'semi.csv'), '\uFEFFid;text;label\r\n1;"a; b";yes\r\n\r\n2;plain;no\r\n');
  const dataset = await csvDataset.create(
    { files: { train: 'semi.csv' }, separator: ';', id_field: 'id', label_field: 'label' },
    testDependencies(directory),
  );
  assert.deepEqual(dataset.fields, ['text']);
  assert.deepEqual(
    (await all(dataset, 'train')).map((example) => [example.id, example.fields.text, example.goldLabel]),
    [
      ['train/1', 'a; b', 'yes'],
      ['train/2', 'plain', 'no'],
    ],
  );
});

test('a ragged row, an unclosed quote, a header without a name or with a name twice are errors at file:line', async (context) => {
  const directory = temporaryDirectory(context);
  const ragged = await problemOf(directory, 'text,label\nfine,yes\none, two,no\n');
  assert.equal(ragged.problem.line, 3);
  assert.equal(ragged.problem.file, ragged.file);
  assert.match(ragged.problem.message, /line 3 of .*data\.csv has 3 cells, the header has 2/);
  assert.match(ragged.problem.fix!, /quote fields that contain commas/);

  const unclosed = await problemOf(directory, 'text,label\nfine,yes\n"never closed,no\nmore,yes\n');
  assert.equal(unclosed.problem.line, 3);
  assert.equal(unclosed.problem.message, `${unclosed.file}:3: unterminated quoted field starting on line 3`);

  const unnamed = await problemOf(directory, 'text,,label\na,b,c\n');
  assert.equal(unnamed.problem.message, `${unnamed.file}:1: column 2 of the header row has no name`);
  const twice = await problemOf(directory, 'text,text\na,b\n');
  assert.equal(twice.problem.message, `${twice.file}:1: column "text" appears twice in the header row`);
});

test('a missing column names the record, the column and a did-you-mean', async (context) => {
  const directory = temporaryDirectory(context);
  const { problem, file } = await problemOf(directory, 'sentence,label\nhello,yes\n', { fields: { text: 'sentense' } });
  assert.equal(problem.message, `${file}:2: column "sentense" (field text) is missing`);
  assert.equal(problem.plugin, 'dataset/csv');
  assert.equal(problem.fix, 'did you mean "sentence"? columns: sentence, label');
});

test('a row longer than the bound is refused at the line it starts on, without reading on', () => {
  const parser = new CsvParser(',', 64);
  assert.deepEqual(parser.push('a,b\n1,2\n'), [
    { cells: ['a', 'b'], line: 1 },
    { cells: ['1', '2'], line: 2 },
  ]);
  assert.throws(
    () => parser.push(`"${'x'.repeat(100)}`),
    (error: unknown) =>
      error instanceof Error &&
      error.message === 'the row starting on line 3 is longer than 64 characters (a quoted field that is never closed?)',
  );
});

test('an unclosed quote in a large file stops at the row bound with file:line, not at the end of the file', async (context) => {
  const directory = temporaryDirectory(context);
  const { problem, file } = await problemOf(directory, `text,label\nfine,yes\n"never closed,no\n${'more text,yes\n'.repeat(100_000)}`);
  assert.equal(problem.line, 3);
  assert.equal(
    problem.message,
    `${file}:3: the row starting on line 3 is longer than 1048576 characters (a quoted field that is never closed?)`,
  );
});
