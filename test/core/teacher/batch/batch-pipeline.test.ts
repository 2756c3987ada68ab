import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadPipeline } from '../../../../core/config/load-pipeline.js';
import { isUserError } from '../../../../core/errors/user-error.js';
import { dryRunPipeline } from '../../../../core/runner/dry-run.js';
import { estimatePipeline, type Estimate } from '../../../../core/teacher/estimate.js';
import { builtinRegistry } from '../../../../plugins/composition-root.js';
import { testPath } from '../../../support/paths.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';

/** A pipeline of the fixture questions with a fixture teacher (see `fixtures/batch-teachers.js`), in `teacher.mode: batch`. */
function writePipeline(context: TestContext, teacher: string, extra = ''): string {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'pipeline.yaml');
  writeFileSync(
    file,
    `name: batch-fixture
plugins:
  - ${JSON.stringify(testPath('bin', 'fixtures', 'teach', 'teach-plugins.js'))}
  - ${JSON.stringify(testPath('core', 'teacher', 'batch', 'fixtures', 'batch-teachers.js'))}
dataset:
  use: fixture-questions
  options:
    count: 10
  splits: { train: train, test: test }
teacher:
  use: ${teacher}
  mode: batch
prompt:
  use: fixture-question-prompt
parser:
  use: fixture-answer-parser
student:
  size: tiny
trainer:
  use: torch
cache:
  path: ./cache/teacher-cache.sqlite
output:
  directory: ./runs
${extra}`,
  );
  return file;
}

test('teacher.mode: batch with a teacher that offers no batch API is a validation error at /teacher/mode, with its line, naming the plugin', async (context) => {
  const file = writePipeline(context, 'fixture-realtime-teacher');
  try {
    await loadPipeline(file, { registry: builtinRegistry(), environment: {} });
    assert.fail('expected a validation error');
  } catch (error) {
    assert.ok(isUserError(error), String(error));
    const problem = error.problems.find((each) => each.pointer === '/teacher/mode')!;
    assert.ok(problem, error.message);
    assert.equal(problem.plugin, 'teacher/fixture-realtime-teacher');
    assert.match(problem.message, /"fixture-realtime-teacher" offers no batch API/);
    assert.equal(problem.line, 12);
  }
  // The same pipeline with a teacher that offers batch mode is valid.
  await loadPipeline(writePipeline(context, 'fixture-batch-teacher'), { registry: builtinRegistry(), environment: {} });
});

test('estimate shows the batch cost beside the real-time cost: half by the batch share, or the batch prices of prices:', async (context) => {
  const loaded = await loadPipeline(writePipeline(context, 'fixture-batch-teacher'), { registry: builtinRegistry(), environment: {} });
  const estimate = await estimatePipeline(loaded, { completionTokens: 20 });
  const own = estimate.rows.find((row) => row.teacher)!;
  assert.equal(own.provider, 'fixture');
  assert.ok(own.cost_usd! > 0);
  assert.equal(own.batch_cost_usd, own.cost_usd! / 2);

  const overridden = await loadPipeline(
    writePipeline(
      context,
      'fixture-batch-teacher',
      'prices:\n  fixture/fixture-1: { prompt: 1, completion: 2, batch_prompt: 0.25, batch_completion: 0.5 }\n',
    ),
    { registry: builtinRegistry(), environment: {} },
  );
  const row = (await estimatePipeline(overridden, { completionTokens: 20 })).rows.find((each) => each.teacher)!;
  assert.equal(row.cost_usd, (row.prompt_tokens * 1 + row.completion_tokens * 2) / 1e6);
  assert.equal(row.batch_cost_usd, (row.prompt_tokens * 0.25 + row.completion_tokens * 0.5) / 1e6);
});

test('the dry run of a batch-mode pipeline says so and carries the teacher plugin’s batch notice', async (context) => {
  const plan = await dryRunPipeline(writePipeline(context, 'fixture-batch-teacher'), builtinRegistry(), {});
  assert.equal(plan.teacherMode, 'batch');
  assert.deepEqual(plan.notices, ['teacher/fixture-batch-teacher in batch mode: fixture batches are kept for 29 days']);
  assert.ok(plan.estimate.rows.find((row) => row.teacher)!.batch_cost_usd! > 0);
});

test('estimate with teacher.samples: completions count per answer, prompts once for a teacher asking n answers in one request (real time), per answer otherwise and in batch mode', async (context) => {
  const estimateWith = async (samples: number) => {
    const file = writePipeline(context, 'openai');
    const text = readFileSync(file, 'utf8').replace(
      '  use: openai\n  mode: batch\n',
      `  use: openai\n  options: { model: gpt-4o-mini, temperature: 0.7 }\n  samples: ${samples}\n`,
    );
    writeFileSync(file, text);
    return estimatePipeline(await loadPipeline(file, { registry: builtinRegistry(), environment: {} }), { completionTokens: 20 });
  };
  const [one, five] = await Promise.all([estimateWith(1), estimateWith(5)]);
  assert.equal(one.samples, 1);
  assert.equal(five.samples, 5);
  const row = (estimate: Estimate, provider: string) => estimate.rows.find((each) => each.provider === provider)!;
  // OpenAI: one chat completion with n = 5 pays its prompt once and five completions.
  assert.equal(row(five, 'openai').prompt_tokens, row(one, 'openai').prompt_tokens);
  assert.equal(row(five, 'openai').completion_tokens, 5 * row(one, 'openai').completion_tokens);
  // In batch mode every answer is a line of its own, prompt and all: five times the single answer's batch cost.
  assert.ok(Math.abs(row(five, 'openai').batch_cost_usd! - 5 * row(one, 'openai').batch_cost_usd!) < 1e-12);
  // Anthropic asks one request per answer.
  assert.equal(row(five, 'anthropic').prompt_tokens, 5 * row(one, 'anthropic').prompt_tokens);
  assert.equal(row(five, 'anthropic').completion_tokens, 5 * row(one, 'anthropic').completion_tokens);
});
