import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { runPipeline } from '../../../core/runner/run-pipeline.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import type { DistillEvent } from '../../../core/services/event-stream.js';
import { childProcessIds, descriptorsOn } from '../../support/process-resources.js';
import { tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { startProviderServer } from '../../support/provider-server.js';
import { teachOutputFiles, tinyTrainingYaml, writeTeachPipeline } from '../../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

// A real run — a teacher behind a loopback server, a cache, a real trainer worker — that ends in
// success, in a failure while the worker trains, or in a cancel while it trains: however it ends, no
// descriptor on the cache is left open and no child process is left running.

async function pipelineWithTraining(context: TestContext, maxSteps: number): Promise<{ pipeline: string; cacheFile: string }> {
  const server = await startProviderServer('openai', (request) => ({
    kind: 'answer',
    text: `Answer: yes, because ${request.prompt} says so plainly`,
  }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const base = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 40 });
  const pipeline = path.join(directory, 'with-training.yaml');
  writeFileSync(
    pipeline,
    `extends: ${JSON.stringify(base)}
${tinyTrainingYaml(maxSteps)}`,
  );
  return { pipeline, cacheFile: teachOutputFiles(directory).cache };
}

function assertNothingLeft(cacheFile: string, childrenBefore: readonly number[]): void {
  assert.equal(descriptorsOn(cacheFile), 0, 'the teacher cache is closed');
  assert.deepEqual(childProcessIds(), childrenBefore, 'no child process is left');
}

test(
  'a run that ends in success, in a failure or in a cancel while the worker trains leaves no open cache and no process',
  { skip: tinyStudentMissing(), timeout: 300_000 },
  async (context) => {
    const childrenBefore = childProcessIds();

    const done = await pipelineWithTraining(context, 4);
    const result = await runPipeline(done.pipeline, { registry: builtinRegistry(), until: 'trainer', environment: process.env });
    assert.equal(result.outcomes.of('trainer')?.record.output.steps, 4);
    assertNothingLeft(done.cacheFile, childrenBefore);

    // A failure while the worker runs: a listener that breaks on the first progress report.
    const failing = await pipelineWithTraining(context, 100_000);
    const listener = (event: DistillEvent) => {
      if (event.type === 'train.progress') throw new Error('the progress display broke');
    };
    await assert.rejects(
      runPipeline(failing.pipeline, { registry: builtinRegistry(), until: 'trainer', environment: process.env, listener }),
      /the progress display broke/,
    );
    assertNothingLeft(failing.cacheFile, childrenBefore);

    // Ctrl+C while the worker runs.
    const cancelled = await pipelineWithTraining(context, 100_000);
    const cancel = new AbortController();
    const onProgress = (event: DistillEvent) => {
      if (event.type === 'train.progress') cancel.abort(new Error('cancelled by the user'));
    };
    await assert.rejects(
      runPipeline(cancelled.pipeline, {
        registry: builtinRegistry(),
        until: 'trainer',
        environment: process.env,
        listener: onProgress,
        signal: cancel.signal,
      }),
      /cancelled/,
    );
    assertNothingLeft(cancelled.cacheFile, childrenBefore);
  },
);
