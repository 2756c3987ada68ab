import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Dataset, DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../../core/plugins/kinds/parser.js';
import { promptForDataset, type Prompt } from '../../../core/plugins/kinds/prompt.js';
import { UserError } from '../../../core/errors/user-error.js';
import { unknownPlaceholderProblems } from '../../../core/parsing/template-placeholders.js';
import { dsbsDataset } from '../../../plugins/datasets/dsbs/dsbs-dataset.js';
import { palmParser } from '../../../plugins/parsers/palm/palm-parser.js';
import { maxTemplateFileBytes, templatePrompt, type TemplatePromptOptions } from '../../../plugins/prompts/template/template-prompt.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../../support/paths.js';
import { testDependencies } from '../datasets/test-dependencies.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const skip = sharedDataMissing();
const dependencies = testDependencies(repositoryRoot, { DISTILL_DSBS_DIR: dsbsDirectory });
const create = (options: TemplatePromptOptions): Promise<Prompt> => Promise.resolve(templatePrompt.create(options, dependencies));
/** The prompt as a pipeline uses it: few-shot exemplars come from the dsbs dataset `name` through the `Dataset` contract. */
const createFor = async (name: 'anli1' | 'cqa' | 'esnli' | 'svamp', options: TemplatePromptOptions): Promise<Prompt> =>
  promptForDataset(await create(options), await dsbsDataset.create({ name, root: dsbsDirectory }, dependencies));

const nliExample: DatasetExample = {
  id: 'made-up/1',
  split: 'test',
  fields: { premise: 'A man sleeps on a bench.', hypothesis: 'A person is resting.' },
  goldLabel: 'entailment',
};
const cqaExample: DatasetExample = {
  id: 'made-up/2',
  split: 'test',
  fields: {
    question: 'Where do beavers get wood?',
    choices: ['river', 'zoo', 'wooded area', 'desert', 'city'],
    a: 'river',
    b: 'zoo',
    c: 'wooded area',
    d: 'desert',
    e: 'city',
  },
  goldLabel: 'wooded area',
};

test('the zero-shot templates render the texts of method.md §1 verbatim', async () => {
  const nli = await create({ name: 'nli-zero-shot' });
  assert.deepEqual(nli.render(nliExample), [
    {
      role: 'user',
      content: 'Based on A man sleeps on a bench., determine whether the claim "A person is resting." is true, false, or inconclusive?',
    },
  ]);
  assert.deepEqual(nli.placeholders, ['premise', 'hypothesis']);
  assert.equal(nli.shots, 0);

  const cqa = await create({ name: 'cqa-zero-shot' });
  assert.equal(
    cqa.render(cqaExample)[0]!.content,
    'Given the following options, what do you think is the correct answer to the question below:\n\nWhere do beavers get wood?\n\nOptions:\na)river\nb)zoo\nc)wooded area\nd)desert\ne)city\n\nExplain your answer with one sentence.',
  );
  assert.deepEqual(cqa.placeholders, ['question', 'a', 'b', 'c', 'd', 'e']);

  const svamp = await create({ name: 'svamp-zero-shot' });
  assert.equal(
    svamp.render({ ...nliExample, fields: { question: 'Tom has 3 apples.\nHow many?' } })[0]!.content,
    'Tom has 3 apples.\nHow many?\n\nGo step by step, but clearly state your final answer.',
  );
  assert.deepEqual(svamp.placeholders, ['question']);
});

test('the label-given template fills {label} from the gold label, which is not a placeholder', async () => {
  const prompt = await create({ name: 'nli-label-given' });
  assert.deepEqual(prompt.placeholders, ['premise', 'hypothesis']);
  assert.equal(
    prompt.render(nliExample)[0]!.content,
    'Premise: A man sleeps on a bench.\nClaim: A person is resting.\n\nWhy is the hypothesis "entailment" towards the premise? Answer in a single sentence starting with: "The hypothesis is "entailment" towards the premise, because..."',
  );
  assert.throws(
    () => prompt.render({ ...nliExample, goldLabel: null }),
    (error: unknown) => error instanceof UserError && /no gold label/.test(error.message),
  );
});

test('a user template with a system message; placeholders from both; the hash follows text and settings', async () => {
  const prompt = await create({
    template: 'Premise: {premise}\nHypothesis: {hypothesis}\nReply as {{"label": …}}',
    system: 'You judge {task} pairs.',
  });
  assert.deepEqual(prompt.placeholders, ['premise', 'hypothesis', 'task']);
  const same = await create({
    template: 'Premise: {premise}\nHypothesis: {hypothesis}\nReply as {{"label": …}}',
    system: 'You judge {task} pairs.',
  });
  const otherSystem = await create({
    template: 'Premise: {premise}\nHypothesis: {hypothesis}\nReply as {{"label": …}}',
    system: 'You judge pairs.',
  });
  assert.match(prompt.templateHash, /^[0-9a-f]{64}$/);
  assert.equal(prompt.templateHash, same.templateHash);
  assert.notEqual(prompt.templateHash, otherSystem.templateHash);
  assert.deepEqual(prompt.render({ ...nliExample, fields: { ...nliExample.fields, task: 'NLI' } }), [
    { role: 'system', content: 'You judge NLI pairs.' },
    { role: 'user', content: 'Premise: A man sleeps on a bench.\nHypothesis: A person is resting.\nReply as {"label": …}' },
  ]);
});

test('an unknown {field} is reported against the dataset fields before any call', { skip }, async () => {
  const prompt = await create({ template: 'Based on {premise}, is "{hypotesis}" true? Topic: {topic}' });
  const dataset: Dataset = await dsbsDataset.create({ name: 'esnli', root: dsbsDirectory }, dependencies);
  const problems = unknownPlaceholderProblems(prompt.placeholders, dataset.fields, 'prompt/template');
  assert.deepEqual(
    problems.map((problem) => problem.message),
    [
      'the template uses {hypotesis}, which is not a field of the dataset',
      'the template uses {topic}, which is not a field of the dataset',
    ],
  );
  assert.match(problems[0]!.fix!, /^did you mean "hypothesis"\? fields: premise, hypothesis, explanation_1/);
  // The built-in templates fit their datasets.
  for (const [name, dataset] of [
    ['nli-zero-shot', 'esnli'],
    ['nli-zero-shot', 'anli1'],
    ['cqa-zero-shot', 'cqa'],
    ['svamp-zero-shot', 'svamp'],
    ['cqa-few-shot', 'cqa'],
    ['svamp-few-shot', 'svamp'],
    ['anli1-few-shot', 'anli1'],
    ['esnli-few-shot', 'esnli'],
  ] as const) {
    const fields = (await dsbsDataset.create({ name: dataset, root: dsbsDirectory }, dependencies)).fields;
    assert.deepEqual(
      unknownPlaceholderProblems((await create({ name })).placeholders, fields, 'prompt/template'),
      [],
      `${name} on ${dataset}`,
    );
  }
});

test('exactly one of name and template; zero-shot templates take no few-shot options; unknown names suggest', async () => {
  await assert.rejects(create({ name: 'nli-zero-shot', template: 'x {premise}' }), /exactly one of name/);
  await assert.rejects(create({}), /exactly one of name/);
  await assert.rejects(create({ name: 'nli-zero-shot', shots: 3 }), /do nothing with the zero-shot template/);
  await assert.rejects(create({ template: '{premise}', shots: 3 }), /only apply to the built-in few-shot templates/);
  await assert.rejects(
    create({ name: 'cqa-zero-shto' }),
    (error: unknown) => error instanceof UserError && /did you mean "cqa-zero-shot"\?/.test(error.problems[0]!.fix!),
  );
});

/** Splits a few-shot prompt into its exemplar blocks and the final query. */
function blocks(content: string, marker: RegExp): string[] {
  return content.split(marker).filter((block) => block.trim() !== '');
}

test('few-shot exemplars are fixed real examples: same prompt and hash every time, shots as asked', { skip }, async () => {
  const first = await createFor('cqa', { name: 'cqa-few-shot' });
  const second = await createFor('cqa', { name: 'cqa-few-shot' });
  assert.equal(first.shots, 7);
  assert.equal(first.templateHash, second.templateHash);
  const content = first.render(cqaExample)[0]!.content;
  assert.equal(content, second.render(cqaExample)[0]!.content);
  const questions = blocks(content, /^Q: /m);
  assert.equal(questions.length, 8, '7 exemplars and the question asked');
  assert.match(questions[0]!, /^A John is a bum\./, 'exemplars come from the train split in file order');
  assert.match(questions.at(-1)!, /^Where do beavers get wood\?\nAnswer Choices:\n\(a\) river\n.*\(e\) city\nA:$/s);

  const three = await createFor('cqa', { name: 'cqa-few-shot', shots: 3 });
  assert.equal(three.shots, 3);
  assert.notEqual(three.templateHash, first.templateHash);
  assert.equal(blocks(three.render(cqaExample)[0]!.content, /^Q: /m).length, 4);
  assert.ok(
    content.startsWith(three.render(cqaExample)[0]!.content.split('\n\nQ: Where do beavers')[0]!),
    'fewer shots are a prefix of more',
  );
});

test('every exemplar answer is in the PaLM format, and the palm parser reads back its gold label', { skip }, async () => {
  for (const name of ['anli1', 'cqa', 'esnli', 'svamp'] as const) {
    const prompt = await createFor(name, { name: `${name}-few-shot` });
    const parser: Parser = palmParser.create({ dataset: name }, dependencies) as Parser;
    const dataset = await dsbsDataset.create({ name, root: dsbsDirectory }, dependencies);
    const example = (await (async () => {
      for await (const each of dataset.read('test')) return each;
    })())!;
    const content = prompt.render(example)[0]!.content;
    const marker = name === 'cqa' || name === 'svamp' ? /^Q: /m : /^Premise: /m;
    const exemplars = blocks(content, marker).slice(0, -1);
    assert.equal(exemplars.length, prompt.shots, name);
    const labels = exemplars.map((block) => {
      const answer = block
        .slice(block.indexOf(name === 'esnli' ? 'Reasonings:' : name === 'anli1' ? 'Answer:' : 'A:'))
        .replace(/^(Reasonings|Answer|A):\s*/, '');
      const choices = [...block.matchAll(/^\([a-e]\) (.*)$/gm)].map((match) => match[1]!);
      const parsed = parser.parse(answer, { ...example, fields: { choices } });
      assert.equal(parsed.status, 'parsed', `${name}: ${answer}`);
      assert.notEqual(parsed.rationale, null, `${name}: ${answer}`);
      return parsed.label;
    });
    if (name === 'anli1' || name === 'esnli') {
      assert.deepEqual(
        labels,
        ['entailment', 'neutral', 'contradiction', 'entailment', 'neutral', 'contradiction'],
        'NLI exemplars take the labels in turn',
      );
    }
    if (name === 'svamp') assert.equal(labels[0], '(84 / 2)');
  }
});

test('the few-shot CQA prompt is roughly ten times the zero-shot prompt in characters', { skip }, async () => {
  const zeroShot = await create({ name: 'cqa-zero-shot' });
  const fewShot = await createFor('cqa', { name: 'cqa-few-shot' });
  const dataset = await dsbsDataset.create({ name: 'cqa', root: dsbsDirectory }, dependencies);
  let zeroShotCharacters = 0;
  let fewShotCharacters = 0;
  let count = 0;
  for await (const example of dataset.read('test')) {
    zeroShotCharacters += zeroShot.render(example)[0]!.content.length;
    fewShotCharacters += fewShot.render(example)[0]!.content.length;
    if (++count === 200) break;
  }
  const ratio = fewShotCharacters / zeroShotCharacters;
  console.log(`cqa test, first 200: few-shot / zero-shot prompt characters = ${ratio.toFixed(2)}`);
  assert.ok(ratio >= 6 && ratio <= 14, `ratio ${ratio.toFixed(2)} is not roughly ten`);
});

test('template_file: the template text read from a file renders and hashes as the same text written inline', async (context) => {
  const folder = temporaryDirectory(context);
  const text = 'Premise: {premise}\nHypothesis: {hypothesis}\nAnswer with one word.';
  writeFileSync(path.join(folder, 'nli.txt'), text);
  const inFolder = testDependencies(folder, {});
  const fromFile = await templatePrompt.create({ template_file: 'nli.txt' }, inFolder);
  const inline = await create({ template: text });
  assert.deepEqual(fromFile.render(nliExample), inline.render(nliExample));
  assert.equal(fromFile.templateHash, inline.templateHash, 'the hash is of the text, wherever it was written');

  writeFileSync(path.join(folder, 'huge.txt'), 'x'.repeat(maxTemplateFileBytes + 1));
  await assert.rejects(
    async () => templatePrompt.create({ template_file: 'huge.txt' }, inFolder),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.message, /the template_file .*huge\.txt is larger than 262144 bytes/);
      return true;
    },
  );
  writeFileSync(path.join(folder, 'empty.txt'), '\n');
  await assert.rejects(
    async () => templatePrompt.create({ template_file: 'empty.txt' }, inFolder),
    /the template_file .*empty\.txt is empty/,
  );
  await assert.rejects(
    async () => templatePrompt.create({ template_file: 'nli.txt', template: text }, inFolder),
    /give exactly one of name \(a built-in template\), template \(your own text\) and template_file/,
  );
});
