import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStepInstance } from '../../../core/config/create-step-instance.js';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { UserError } from '../../../core/errors/user-error.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { ChildProcesses } from '../../../core/services/child-processes.js';
import { systemClock } from '../../../core/services/clock.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../../core/services/http-settings.js';
import { MemoryLogger } from '../../../core/services/logger.js';
import { testPath } from '../../support/paths.js';
import { stableRegistry } from './stable-registry.js';

const environment = { FIXTURE_API_KEY: 'sk-fixture-secret-1' };

async function setUp() {
  const loaded = await loadPipeline(testPath('core', 'config', 'fixtures', 'valid', 'child.yaml'), {
    environment,
    registry: stableRegistry(),
  });
  const dependencies: PluginDependencies = {
    logger: new MemoryLogger(),
    clock: systemClock,
    httpSettings: defaultHttpSettings,
    events: new LocalEventStream(),
    baseDirectory: loaded.baseDirectory,
    environment,
    signal: new AbortController().signal,
    processes: new ChildProcesses(),
  };
  return { loaded, dependencies };
}

test('steps of a loaded pipeline become working instances of their kind', async () => {
  const { loaded, dependencies } = await setUp();
  const evaluator = await createStepInstance(loaded, 'evaluator', loaded.config.evaluators[0]!, dependencies);
  assert.equal(evaluator.score('Yes', 'yes'), 0, 'ignore_case: false from the pipeline reached the plugin');
  const teacher = await createStepInstance(loaded, 'teacher', loaded.config.teacher, dependencies);
  assert.equal(teacher.model, 'small-model');
  assert.deepEqual(teacher.requestOptions, { max_tokens: 64, temperature: 0 });
  const loss = await createStepInstance(loaded, 'loss-weight', loaded.config.loss, dependencies);
  assert.deepEqual(loss.schedule(), { start: 0.8, end: 0.2 });
});

test('a step built in code gets defaults and is checked against the schema', async () => {
  const { loaded, dependencies } = await setUp();
  const evaluator = await createStepInstance(loaded, 'evaluator', { use: 'exact-match', options: {} }, dependencies);
  assert.equal(evaluator.score('Yes', 'yes'), 1, 'default ignore_case: true');
  await assert.rejects(
    createStepInstance(loaded, 'loss-weight', { use: 'linear', options: { start: 2 } }, dependencies),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.deepEqual(
        error.problems.map((problem) => [problem.pointer, problem.message, problem.plugin]),
        [
          ['/options', 'missing required key "end"', 'loss-weight/linear'],
          ['/options/start', 'must be <= 1, got 2', 'loss-weight/linear'],
        ],
      );
      return true;
    },
  );
  await assert.rejects(
    createStepInstance(loaded, 'evaluator', { use: 'exact-mach', options: {} }, dependencies),
    /unknown evaluator plugin "exact-mach"/,
  );
});
