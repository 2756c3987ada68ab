import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { readEvaluationExamples } from '../../../core/inference/evaluation-examples.js';
import type { Dataset, DatasetExample, NamedDatasetCatalogue } from '../../../core/plugins/kinds/dataset.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import { UserError } from '../../../core/errors/user-error.js';
import { builtinPlugins } from '../../../plugins/builtin-plugins.js';
import { asyncValues } from '../../support/async-values.js';
import { dsbsDirectory, sharedDataMissing } from '../../support/paths.js';

/** The questions of one multiplication table; only a `test` split exists. */
function* tableQuestions(options: { table: number; root?: string }, split: string): Generator<DatasetExample> {
  if (split !== 'test') throw new UserError({ message: `no split ${split}`, fix: `root was ${options.root ?? 'not given'}` });
  for (let factor = 1; factor <= 5; factor++) {
    yield { id: `${split}/${factor}`, split, fields: { factor }, goldLabel: String(options.table * factor) };
  }
}

/**
 * A dataset plugin serving two named datasets of arithmetic questions, whose student input is not a
 * field as it is: `distill eval` must take it from the dataset's own `studentInput`.
 */
const arithmeticDataset: PluginDescriptor<{ table: number; root?: string }, Dataset> & NamedDatasetCatalogue = {
  id: 'arithmetic',
  kind: 'dataset',
  version: '1.0.0',
  summary: 'Multiplication tables (test plugin).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['table'],
    properties: { table: { type: 'integer' }, root: { type: 'string' } },
  },
  namedDatasets: {
    twos: { options: (root) => ({ table: 2, ...(root === undefined ? {} : { root }) }), metric: 'numeric-equality' },
    threes: { options: () => ({ table: 3 }), metric: 'exact-match' },
  },
  create(options) {
    return {
      splits: ['test'],
      fields: ['factor'],
      labels: null,
      read: (split: string) => asyncValues(tableQuestions(options, split)),
      studentInput: (example) => `${options.table} times ${String(example.fields.factor)}`,
      sourceFiles: () => [],
    };
  },
};
const registry = new PluginRegistry([arithmeticDataset]);

test('a named dataset is read through its plugin: its student input, gold labels, metric and split', async () => {
  const set = await readEvaluationExamples({ dataset: 'twos', limit: 3 }, registry);
  assert.deepEqual(set, {
    examples: [
      { input: '2 times 1', label: '2' },
      { input: '2 times 2', label: '4' },
      { input: '2 times 3', label: '6' },
    ],
    metric: 'numeric-equality',
    description: 'twos/test',
  });
  const threes = await readEvaluationExamples({ dataset: 'threes', metric: 'numeric-equality' }, registry);
  assert.equal(threes.examples.length, 5);
  assert.equal(threes.metric, 'exact-match', 'a named dataset scores with its own metric');
  await assert.rejects(
    readEvaluationExamples({ dataset: 'twos', split: 'train', root: 'data' }, registry),
    (error: unknown) => error instanceof UserError && error.problems[0]!.fix === 'root was data',
  );
});

test('a JSON Lines file is scored with the metric the caller names; an unknown name lists the named datasets', async (context) => {
  const folder = mkdtempSync(path.join(tmpdir(), 'distill-evaluation-'));
  context.after(() => rmSync(folder, { recursive: true, force: true }));
  writeFileSync(path.join(folder, 'gold.jsonl'), '{"input": "one", "label": "1"}\n\n{"input": "two", "label": "2"}\n');
  const set = await readEvaluationExamples({ dataset: 'gold.jsonl', baseDirectory: folder, metric: 'exact-match' }, registry);
  assert.deepEqual(set, {
    examples: [
      { input: 'one', label: '1' },
      { input: 'two', label: '2' },
    ],
    metric: 'exact-match',
    description: 'gold.jsonl',
  });
  await assert.rejects(
    readEvaluationExamples({ dataset: 'gold.jsonl', baseDirectory: folder }, registry),
    (error: unknown) => error instanceof UserError && /no metric to score gold\.jsonl/.test(error.message),
  );
  await assert.rejects(
    readEvaluationExamples({ dataset: 'fours', baseDirectory: folder }, registry),
    (error: unknown) =>
      error instanceof UserError &&
      error.message === 'unknown dataset "fours": neither a named dataset nor a file' &&
      error.problems[0]!.fix === 'use one of threes, twos, or a JSON Lines file whose lines hold "input" and "label"',
  );
});

test(
  'the built-in dsbs datasets by name: SVAMP equations by numeric equality, inputs as the dataset plugin gives them',
  { skip: sharedDataMissing() },
  async () => {
    const builtins = new PluginRegistry(builtinPlugins);
    const svamp = await readEvaluationExamples({ dataset: 'svamp', root: dsbsDirectory, limit: 2 }, builtins);
    assert.equal(svamp.metric, 'numeric-equality');
    assert.equal(svamp.description, 'svamp/test');
    assert.equal(svamp.examples.length, 2);
    const esnli = await readEvaluationExamples(
      { dataset: 'esnli', split: 'valid', limit: 1, environment: { DISTILL_DSBS_DIR: dsbsDirectory } },
      builtins,
    );
    assert.equal(esnli.metric, 'exact-match');
    assert.match(esnli.examples[0]!.input, / <\/s> /);
    assert.ok(['entailment', 'neutral', 'contradiction'].includes(esnli.examples[0]!.label));
  },
);
