import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { promptForDataset } from '../../../core/plugins/kinds/prompt.js';
import { estimatePipeline } from '../../../core/teacher/estimate.js';
import { dsbsDataset } from '../../../plugins/datasets/dsbs/dsbs-dataset.js';
import { templatePrompt } from '../../../plugins/prompts/template/template-prompt.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { openAiTokenCounter } from '../../../plugins/teachers/openai/openai-token-counter.js';
import { dsbsDirectory, repositoryRoot, sharedDataMissing } from '../../support/paths.js';
import { startProviderServer } from '../../support/provider-server.js';
import { runDistill } from '../../support/run-distill.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testDependencies } from '../datasets/test-dependencies.js';

const examples = 4;

/** The user messages the cqa-few-shot recipe's prompt makes of the first train examples, its exemplars taken from the dataset. */
async function expectedPrompts(): Promise<string[]> {
  const dependencies = testDependencies(repositoryRoot);
  const dataset = await dsbsDataset.create({ name: 'cqa', root: dsbsDirectory }, dependencies);
  const prompt = await promptForDataset(await templatePrompt.create({ name: 'cqa-few-shot', shots: 7 }, dependencies), dataset);
  const prompts: string[] = [];
  for await (const example of dataset.read('train')) {
    prompts.push(prompt.render(example).at(-1)!.content);
    if (prompts.length === examples) break;
  }
  return prompts;
}

test(
  'the few-shot CQA recipe asks and estimates with exemplars from its own dataset, no data folder on the prompt',
  { skip: sharedDataMissing() },
  async (context) => {
    const server = await startProviderServer('openai', () => ({
      kind: 'answer',
      text: 'Beavers live by rivers. So the answer is (c) wooded area.',
    }));
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = path.join(directory, 'cqa-few-shot-local.yaml');
    writeFileSync(
      pipeline,
      `extends: ${JSON.stringify(path.join(repositoryRoot, 'pipelines', 'cqa-few-shot-openai.yaml'))}
name: cqa-few-shot-local
dataset:
  limit: { train: ${examples} }
teacher:
  options:
    base_url: ${server.baseUrl}
cache:
  path: ./cache.sqlite
output:
  directory: ./runs
`,
    );
    const expected = await expectedPrompts();
    assert.equal(new Set(expected).size, examples);
    assert.ok(
      expected.every((prompt) => prompt.split('\nA: ').length === 8),
      'seven worked answers and the question',
    );

    const run = await runDistill(['teach', pipeline, '--json'], { DISTILL_DSBS_DIR: dsbsDirectory, OPENAI_API_KEY: '' });
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(server.requests.map((request) => request.prompt).sort(), [...expected].sort());

    const estimate = await estimatePipeline(await loadPipeline(pipeline, { registry: builtinRegistry() }), {
      environment: { DISTILL_DSBS_DIR: dsbsDirectory },
    });
    assert.equal(estimate.examples, examples);
    assert.deepEqual(
      [estimate.completion_tokens_per_example, estimate.completion_tokens_source],
      [28, 'mean measured for cqa (zero-shot paper)'],
    );
    const counter = await openAiTokenCounter('gpt-4o-mini');
    const openAi = estimate.rows.find((row) => row.provider === 'openai')!;
    assert.equal(
      openAi.prompt_tokens,
      expected.map((prompt) => counter.countMessages([{ role: 'user', content: prompt }])).reduce((a, b) => a + b),
    );
  },
);
