import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Dataset, DatasetExample, WorkedExample } from '../../../core/plugins/kinds/dataset.js';
import { promptForDataset, type Prompt } from '../../../core/plugins/kinds/prompt.js';
import { UserError } from '../../../core/errors/user-error.js';
import { templatePrompt, type TemplatePromptOptions } from '../../../plugins/prompts/template/template-prompt.js';
import { asyncValues } from '../../support/async-values.js';
import { testDependencies } from '../datasets/test-dependencies.js';

const create = async (options: TemplatePromptOptions): Promise<Prompt> => templatePrompt.create(options, testDependencies('/'));

/** An NLI example whose premise names it, so the prompt shows which exemplars it took. */
function nliExample(name: string, label: string, split = 'train'): DatasetExample {
  return { id: `${split}/${name}`, split, fields: { premise: `Premise ${name}.`, hypothesis: `Hypothesis ${name}.` }, goldLabel: label };
}

/** The worked examples of a split, each explained; the split is noted as asked once they are read. */
function* explained(worked: readonly DatasetExample[], split: string, asked: string[]): Generator<WorkedExample> {
  asked.push(split);
  for (const example of worked) {
    yield { example, label: example.goldLabel!, rationale: `reason for ${example.id}, which the premise settles` };
  }
}

/**
 * A dataset held in memory: the splits it names, each with the same worked examples (the ones
 * given, explained by "Reason for <name>, …"), so a test decides exactly what a prompt may take.
 */
function memoryDataset(options: {
  splits?: readonly string[];
  labels?: readonly string[] | null;
  fields?: readonly string[];
  worked?: readonly DatasetExample[] | null;
}): Dataset & { readonly asked: string[] } {
  const splits = options.splits ?? ['train', 'test'];
  const asked: string[] = [];
  const worked = options.worked === null ? undefined : (options.worked ?? []);
  return {
    asked,
    splits,
    fields: options.fields ?? ['premise', 'hypothesis'],
    labels: options.labels === undefined ? ['entailment', 'neutral', 'contradiction'] : options.labels,
    async *read() {},
    studentInput: (example) => String(example.fields.premise),
    sourceFiles: () => [],
    ...(worked === undefined
      ? {}
      : {
          workedExamples: (split: string) => asyncValues(explained(worked, split, asked)),
        }),
  };
}

const nliNeutral = { id: 'test/q', split: 'test', fields: { premise: 'Asked premise.', hypothesis: 'Asked hypothesis.' }, goldLabel: null };

/** The premises of the exemplars a rendered few-shot prompt shows, in order. */
function exemplarPremises(prompt: Prompt): string[] {
  const content = prompt.render(nliNeutral)[0]!.content;
  return [...content.matchAll(/^Premise: Premise (\w+)\.$/gm)].map((match) => match[1]!);
}

test('a few-shot template renders only with the worked examples its dataset gives; the answers are in the PaLM format', async () => {
  const unbound = await create({ name: 'esnli-few-shot', shots: 1 });
  assert.deepEqual(unbound.placeholders, ['premise', 'hypothesis']);
  assert.equal(unbound.shots, 1);
  assert.throws(() => unbound.render(nliNeutral), /has no exemplars yet/);
  const dataset = memoryDataset({ worked: [nliExample('a', 'neutral')] });
  const prompt = await promptForDataset(unbound, dataset);
  assert.equal(
    prompt.render(nliNeutral)[0]!.content,
    'Premise: Premise a.\nHypothesis: Hypothesis a.\nReasonings: Reason for train/a, which the premise settles.\nAnswer: neutral\n\n' +
      'Premise: Asked premise.\nHypothesis: Asked hypothesis.\nReasonings:',
  );
  assert.notEqual(prompt.templateHash, unbound.templateHash, 'the hash covers the exemplars');
  const zeroShot = await create({ name: 'nli-zero-shot' });
  assert.equal(await promptForDataset(zeroShot, dataset), zeroShot, 'a prompt without exemplars is complete as created');
});

test("exemplars take a closed label set's labels in turn, in the dataset's order; an open one takes the first", async () => {
  const worked = [
    nliExample('e1', 'entailment'),
    nliExample('e2', 'entailment'),
    nliExample('n1', 'neutral'),
    nliExample('x1', 'unknown'),
    nliExample('e3', 'entailment'),
    nliExample('c1', 'contradiction'),
    nliExample('n2', 'neutral'),
    nliExample('c2', 'contradiction'),
  ];
  const balanced = await promptForDataset(await create({ name: 'anli1-few-shot', shots: 5 }), memoryDataset({ worked }));
  assert.deepEqual(exemplarPremises(balanced), ['e1', 'n1', 'c1', 'e2', 'n2']);
  const open = await promptForDataset(await create({ name: 'anli1-few-shot', shots: 3 }), memoryDataset({ worked, labels: null }));
  assert.deepEqual(exemplarPremises(open), ['e1', 'e2', 'n1']);
});

test('exemplars come from the train split, else valid, else the one named; other splits are user errors', async () => {
  const worked = [nliExample('a', 'neutral')];
  const withTrain = memoryDataset({ splits: ['train', 'valid', 'test'], worked });
  await promptForDataset(await create({ name: 'esnli-few-shot', shots: 1 }), withTrain);
  const withValid = memoryDataset({ splits: ['valid', 'test'], worked });
  await promptForDataset(await create({ name: 'esnli-few-shot', shots: 1 }), withValid);
  const named = memoryDataset({ splits: ['train', 'test'], worked });
  await promptForDataset(await create({ name: 'esnli-few-shot', shots: 1, exemplar_split: 'test' }), named);
  assert.deepEqual([withTrain.asked, withValid.asked, named.asked], [['train'], ['valid'], ['test']]);

  await assert.rejects(
    promptForDataset(await create({ name: 'esnli-few-shot', exemplar_split: 'tset' }), named),
    (error: unknown) =>
      error instanceof UserError &&
      error.problems[0]!.message === 'exemplar_split "tset" is not a split of the dataset' &&
      error.problems[0]!.fix === 'did you mean "test"? set exemplar_split to one of: train, test',
  );
  await assert.rejects(
    promptForDataset(await create({ name: 'esnli-few-shot' }), memoryDataset({ splits: ['test'], worked })),
    (error: unknown) =>
      error instanceof UserError && /no train or valid split/.test(error.message) && error.problems[0]!.plugin === 'prompt/template',
  );
});

test('a dataset without worked examples, with other fields, or with too few is a user error before any call', async () => {
  await assert.rejects(
    promptForDataset(await create({ name: 'esnli-few-shot' }), memoryDataset({ worked: null })),
    (error: unknown) => error instanceof UserError && /this dataset has no worked examples/.test(error.message),
  );
  await assert.rejects(
    promptForDataset(await create({ name: 'cqa-few-shot' }), memoryDataset({ worked: [] })),
    (error: unknown) =>
      error instanceof UserError &&
      error.problems.map((problem) => problem.message).join('\n') ===
        ['question', 'a', 'b', 'c', 'd', 'e'].map((name) => `the template uses {${name}}, which is not a field of the dataset`).join('\n'),
  );
  const two = memoryDataset({ worked: [nliExample('a', 'neutral'), nliExample('b', 'neutral')], labels: null });
  await assert.rejects(
    promptForDataset(await create({ name: 'esnli-few-shot', shots: 3 }), two),
    (error: unknown) =>
      error instanceof UserError &&
      error.message === 'only 2 usable worked examples in split "train" of the dataset, 3 shots asked' &&
      error.problems[0]!.fix === 'lower shots to 2',
  );
  await assert.rejects(
    promptForDataset(await create({ name: 'esnli-few-shot', shots: 1 }), memoryDataset({ worked: [] })),
    (error: unknown) => error instanceof UserError && error.problems[0]!.fix === 'set exemplar_split to a split with worked examples',
  );
});
