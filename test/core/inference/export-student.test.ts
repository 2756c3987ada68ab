import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import { exportStudent } from '../../../core/inference/export-student.js';
import { createEvaluator } from '../../../core/inference/score-predictions.js';
import type { Evaluator } from '../../../core/plugins/kinds/evaluator.js';
import type { ExportRequest, Exporter } from '../../../core/plugins/kinds/exporter.js';
import type { PluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import type { DistillEvent } from '../../../core/services/event-stream.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { testDependencies } from '../../support/test-dependencies.js';

/** What the folder exporter was created with and asked for. */
const seen: { options?: Record<string, unknown>; dependencies?: PluginDependencies; request?: ExportRequest } = {};

/** An exporter that writes nothing, remembering what it got, so the test sees what core hands a plugin. */
const folderExporter: PluginDescriptor<Record<string, unknown>, Exporter> = {
  id: 'folder',
  kind: 'exporter',
  version: '1.0.0',
  summary: 'Remembers its request.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { flavour: { type: 'string', default: 'plain' }, level: { type: 'integer' } },
  },
  create(options, dependencies) {
    Object.assign(seen, { options, dependencies });
    return {
      export(request, events) {
        seen.request = request;
        events.emit('export.progress', { message: 'exported' });
        return Promise.resolve({ outputDirectory: request.outputDirectory, files: [], bytes: 0 });
      },
    };
  },
};

function registryWithExporter(): PluginRegistry {
  const builtins = builtinRegistry();
  return new PluginRegistry([...builtins.list(), folderExporter], {
    ...builtins.defaults,
    exporter: { use: 'folder', options: { level: 3 } },
  });
}

test("distill export's exporter is the registry's default, created with checked options and the run's services", async (context) => {
  const directory = temporaryDirectory(context);
  const events: DistillEvent[] = [];
  const result = await exportStudent(
    { checkpoint: path.join(directory, 'checkpoint'), output: path.join(directory, 'model'), onEvent: (event) => events.push(event) },
    registryWithExporter(),
  );
  assert.equal(result.outputDirectory, path.join(directory, 'model'));
  // The schema's default is filled in, as for a pipeline's step.
  assert.deepEqual(seen.options, { level: 3, flavour: 'plain' });
  assert.equal(seen.dependencies?.baseDirectory, process.cwd());
  assert.equal(typeof seen.dependencies.clock.now, 'function');
  assert.deepEqual(
    events.map((event) => [event.type, event.message]),
    [['export.progress', 'exported']],
  );
  assert.equal(seen.request?.comparison, undefined);
});

test('a comparison is scored by the evaluator of its metric, taken from the registry', async (context) => {
  const directory = temporaryDirectory(context);
  const examples = path.join(directory, 'examples.jsonl');
  writeFileSync(examples, '{"input": "a", "label": "yes"}\n{"input": "b", "label": "no"}\n');
  await exportStudent(
    {
      checkpoint: directory,
      output: path.join(directory, 'model'),
      comparison: { dataset: examples },
      exporter: { use: 'folder', options: {} },
    },
    registryWithExporter(),
  );
  const comparison = seen.request!.comparison!;
  assert.deepEqual(comparison.examples, [
    { input: 'a', label: 'yes' },
    { input: 'b', label: 'no' },
  ]);
  const evaluator = await createEvaluator(builtinRegistry(), comparison.metric, testDependencies());
  assert.deepEqual(
    [comparison.score('yes', 'yes'), comparison.score('no', 'yes')],
    [evaluator.score('yes', 'yes'), evaluator.score('no', 'yes')],
  );
  assert.deepEqual([comparison.score('yes', 'yes'), comparison.score('no', 'yes')], [1, 0]);
});

test('without an exporter named or a default one, export is a user error saying so', async (context) => {
  const directory = temporaryDirectory(context);
  await assert.rejects(
    exportStudent({ checkpoint: directory, output: path.join(directory, 'model') }, new PluginRegistry()),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.problems[0]!.message, /no exporter to export with/);
      return true;
    },
  );
});

test('an evaluator made for a metric is created with the services it is given', async () => {
  let received: PluginDependencies | undefined;
  const recording: PluginDescriptor<Record<string, unknown>, Evaluator> = {
    id: 'recording-metric',
    kind: 'evaluator',
    version: '1.0.0',
    summary: 'Remembers its dependencies.',
    optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
    create(_options, dependencies) {
      received = dependencies;
      return { metric: 'recording-metric', score: (prediction, gold) => (prediction === gold ? 1 : 0) };
    },
  };
  const dependencies = testDependencies();
  const evaluator = await createEvaluator(new PluginRegistry([recording]), 'recording-metric', dependencies);
  assert.equal(evaluator.metric, 'recording-metric');
  assert.equal(received, dependencies);
});
