import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { isUserError } from '../../../../core/errors/user-error.js';
import { builtinRegistry, runPipeline } from '../../../../plugins/index.js';
import { tinyStudentMissing } from '../../inference/tiny-student-fixture.js';
import { startProviderServer, type ProviderServer } from '../../../support/provider-server.js';
import { tinyTrainingYaml, writeTeachPipeline } from '../../../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';

// A priced OpenAI teacher behind a loopback server, a real cache, a tiny T5 trained, exported and
// scored in Node, with `evaluation.teacher_on_test`: the teacher answers the test split as it
// answered the training split, through the same request engine and cache.

/** Dollars per million tokens of the fixture's price row. */
const price = { prompt: 0.15, completion: 0.6 };

async function comparedPipeline(context: TestContext, extra = ''): Promise<{ pipeline: string; server: ProviderServer }> {
  const server = await startProviderServer('openai', (request) => ({
    kind: 'answer',
    text: `Answer: yes, because ${request.prompt} says so plainly`,
    usage: { promptTokens: 100, completionTokens: 20 },
  }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const base = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 40, prices: { 'openai/gpt-4o-mini': price } });
  const pipeline = path.join(directory, 'compared.yaml');
  writeFileSync(
    pipeline,
    `extends: ${JSON.stringify(base)}
${tinyTrainingYaml(4)}export: { use: onnx, options: { quantize: false } }
evaluation: { score_labels: true, teacher_on_test: true }
${extra}`,
  );
  return { pipeline, server };
}

/** Requests the server got for the test split's questions. */
function testRequests(server: ProviderServer): number {
  return server.requests.filter((request) => request.prompt.includes('test question number')).length;
}

test(
  'teacher_on_test: the teacher answers the 40 test examples once, through the cache, and its cost per 1,000 comes from its price',
  { skip: tinyStudentMissing(), timeout: 600_000 },
  async (context) => {
    const { pipeline, server } = await comparedPipeline(context);
    const first = await runPipeline(pipeline, { registry: builtinRegistry(), environment: process.env });
    assert.equal(testRequests(server), 40, 'each test example asked once');
    const evaluated = first.outcomes.of('evaluate')!.record.output;
    const onTest = evaluated.teacherOnTest!;
    // The teacher always says yes; gold alternates yes and no.
    assert.deepEqual([onTest.examples, onTest.correct, onTest.accuracy], [40, 20, 0.5]);
    const cost = first.summary.comparison!.teacherCost!;
    assert.equal(cost.measuredOn, 'test');
    assert.equal(cost.promptTokensPerThousand, 100_000);
    assert.equal(cost.completionTokensPerThousand, 20_000);
    assert.equal(cost.priceKey, 'openai/gpt-4o-mini');
    assert.ok(Math.abs(cost.dollarsPerThousand! - ((100 * price.prompt + 20 * price.completion) / 1e6) * 1000) < 1e-12);

    // The evaluate stage done again answers from the cache: no new request.
    const requestsBefore = server.requests.length;
    rmSync(path.join(first.runDirectory, 'stages', 'evaluate'), { recursive: true, force: true });
    const second = await runPipeline(pipeline, { registry: builtinRegistry(), environment: process.env });
    assert.deepEqual(
      second.stages.map((stage) => `${stage.stage}:${stage.status}`),
      ['dataset:reused', 'teacher:reused', 'trainer:reused', 'export:reused', 'evaluate:computed'],
    );
    assert.equal(server.requests.length, requestsBefore);
    const again = second.outcomes.of('evaluate')!.record.output.teacherOnTest!;
    assert.equal(again.report.cached, 40);
    assert.equal(again.accuracy, 0.5);

    // A record stored before the stage kept its example predictions and CPU time is evaluated again in
    // place, its teacher answers resumed from the stage folder: no request either.
    const recordFile = path.join(second.outcomes.of('evaluate')!.directory, 'stage.json');
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { output: Record<string, unknown> };
    delete record.output.examplePredictions;
    delete record.output.serving;
    writeFileSync(recordFile, JSON.stringify(record));
    const third = await runPipeline(pipeline, { registry: builtinRegistry(), environment: process.env });
    assert.equal(third.stages.at(-1)!.status, 'computed');
    assert.equal(third.outcomes.of('evaluate')!.record.output.examplePredictions!.length, 10);
    assert.equal(server.requests.length, requestsBefore);
  },
);

test(
  'teacher_on_test past the budget the training answers left stops the run with the fix, asking nothing',
  { skip: tinyStudentMissing(), timeout: 600_000 },
  async (context) => {
    const { pipeline, server } = await comparedPipeline(context, 'budget: { max_requests: 40 }\n');
    await assert.rejects(runPipeline(pipeline, { registry: builtinRegistry(), environment: process.env }), (error: unknown) => {
      assert.ok(isUserError(error), String(error));
      const problem = error.problems[0]!;
      assert.equal(problem.pointer, '/evaluation/teacher_on_test');
      assert.match(problem.message, /the teacher stopped \(budget\) after 0 of 40 test examples/);
      assert.match(problem.fix!, /raise budget\.max_usd or budget\.max_requests/);
      return true;
    });
    assert.equal(testRequests(server), 0);
  },
);
