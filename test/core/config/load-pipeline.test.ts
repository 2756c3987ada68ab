import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { redactText } from '../../../core/config/redact.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import { UserError } from '../../../core/errors/user-error.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { testPath } from '../../support/paths.js';
import { stableRegistry } from './stable-registry.js';

const valid = (name: string): string => testPath('core', 'config', 'fixtures', 'valid', name);
const environment = { FIXTURE_API_KEY: 'sk-fixture-secret-1' };

test('a pipeline loads with every default applied', async () => {
  const loaded = await loadPipeline(valid('base.yaml'), { environment, registry: stableRegistry() });
  const { config } = loaded;
  assert.equal(loaded.file, valid('base.yaml'));
  assert.equal(loaded.baseDirectory, path.dirname(valid('base.yaml')));
  assert.deepEqual(loaded.sourceFiles, [valid('base.yaml')]);
  assert.equal(config.seed, 7, 'a seed given is kept');
  assert.deepEqual(config.samplers, []);
  assert.deepEqual(config.loss, { use: 'constant', options: { alpha: 0.5 } }, 'default loss, with its plugin schema default');
  assert.deepEqual(config.budget, {});
  assert.deepEqual(config.prices, {});
  assert.deepEqual(config.cache, { enabled: true });
  assert.deepEqual(config.output, { directory: 'runs' });
  assert.equal(config.dataset.validation_fraction, 0.1);
  assert.deepEqual(config.dataset.limit, {});
  assert.deepEqual(config.teacher.limits, { concurrency: 8, max_retry_after_seconds: 120 });
  assert.equal(config.teacher.max_failure_rate, 0, 'no example may end without an answer unless the pipeline says so');
  assert.deepEqual(
    config.parser,
    { use: 'fixture-parser', options: { min_rationale_words: 5 } },
    'absent options become {} plus plugin defaults',
  );
  assert.deepEqual(config.teacher.options, { model: 'small-model', api_key: 'sk-fixture-secret-1', max_tokens: 256, temperature: 0 });
  assert.equal(config.student.max_input_length, 512);
  assert.ok(loaded.registry.has('teacher', 'fixture-teacher'), 'the external plugins are in the registry');
  assert.ok(loaded.registry.has('evaluator', 'exact-match'), 'so are the built-ins');
});

test('the default seed and evaluators apply when a pipeline names none', async () => {
  const loaded = await loadPipeline(valid('minimal.yaml'), { environment: {}, registry: stableRegistry() });
  assert.equal(loaded.config.seed, 42);
  assert.deepEqual(loaded.config.evaluators, [{ use: 'exact-match', options: { ignore_case: true } }]);
  assert.deepEqual(loaded.config.teacher.options, { model: 'tiny', max_tokens: 256, temperature: 0 });
});

test('extends merges mappings, replaces lists and fills variables with their defaults', async () => {
  const loaded = await loadPipeline(valid('child.yaml'), { environment, registry: stableRegistry() });
  const { config } = loaded;
  assert.deepEqual(loaded.sourceFiles, [valid('child.yaml'), valid('base.yaml')]);
  assert.equal(config.name, 'child');
  assert.equal(config.description, 'Shared recipe for the configuration tests.', 'inherited');
  assert.equal((config as unknown as Record<string, unknown>).extends, undefined, 'extends is consumed');
  assert.deepEqual(config.teacher.options, {
    model: 'small-model',
    api_key: 'sk-fixture-secret-1',
    max_tokens: 64,
    temperature: 0,
    headers: { project_token: 'tok-default-1234' },
  });
  assert.deepEqual(config.evaluators, [{ use: 'exact-match', options: { ignore_case: false } }], 'the list replaced the parent one');
  assert.deepEqual(config.loss, { use: 'linear', options: { start: 0.8, end: 0.2 } });
});

test('options marked secret are redacted in the printable config and in text', async () => {
  const loaded = await loadPipeline(valid('child.yaml'), {
    environment: { ...environment, FIXTURE_PROJECT_TOKEN: 'tok-from-environment' },
    registry: stableRegistry(),
  });
  const redacted = loaded.redactedConfig as { teacher: { options: Record<string, unknown> } };
  assert.equal(redacted.teacher.options.api_key, '[redacted]');
  assert.deepEqual(redacted.teacher.options.headers, { project_token: '[redacted]' });
  assert.equal(redacted.teacher.options.model, 'small-model', 'other options stay');
  assert.equal(loaded.config.teacher.options.api_key, 'sk-fixture-secret-1', 'the config itself keeps the value');
  assert.deepEqual([...loaded.secrets].sort(), ['sk-fixture-secret-1', 'tok-from-environment']);
  assert.ok(!JSON.stringify(loaded.redactedConfig).includes('sk-fixture-secret-1'));
  assert.equal(redactText('401 for key sk-fixture-secret-1', loaded.secrets), '401 for key [redacted]');
});

test('credentials an SDK reads from the environment by itself are redacted too', async () => {
  const loaded = await loadPipeline(valid('minimal.yaml'), {
    environment: { OPENAI_API_KEY: 'sk-proj-abcdefgh', HOME: '/root' },
    registry: stableRegistry(),
  });
  assert.deepEqual(loaded.secrets, ['sk-proj-abcdefgh']);
});

test('a registry given by the caller is used to resolve ids', async () => {
  const builtins = builtinRegistry();
  const registry = new PluginRegistry(
    builtins.list().filter((descriptor) => descriptor.id !== 'exact-match'),
    builtins.defaults,
  );
  await assert.rejects(loadPipeline(valid('minimal.yaml'), { environment: {}, registry }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.deepEqual(
      error.problems.map((problem) => problem.message),
      ['unknown evaluator plugin "exact-match"'],
    );
    // The default evaluator has no position of its own: it is reported at the pipeline's mapping.
    assert.deepEqual([error.problems[0]!.line, error.problems[0]!.column, error.problems[0]!.pointer], [2, 1, '/evaluators/0/use']);
    return true;
  });
});

test("a pipeline that leaves loss and evaluators out gets the registry's default steps, and none without them", async () => {
  const stable = stableRegistry();
  const registry = new PluginRegistry(stable.list(), {
    loss: { use: 'constant', options: { alpha: 0.7 } },
    evaluators: [{ use: 'numeric-equality', options: {} }],
  });
  const loaded = await loadPipeline(valid('minimal.yaml'), { environment: {}, registry });
  assert.deepEqual(loaded.config.loss, { use: 'constant', options: { alpha: 0.7 } });
  assert.deepEqual(
    loaded.config.evaluators.map((step) => step.use),
    ['numeric-equality'],
  );
  // Filled in by copy: the schema's defaults go into the pipeline's step, never into the registry's.
  assert.equal(loaded.config.evaluators[0]!.options.tolerance, 0.0001);
  assert.deepEqual(registry.defaults.evaluators, [{ use: 'numeric-equality', options: {} }]);

  await assert.rejects(
    loadPipeline(valid('minimal.yaml'), { environment: {}, registry: new PluginRegistry(stable.list()) }),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.deepEqual(
        error.problems.map((problem) => [problem.pointer, problem.line, problem.message]),
        [
          ['/evaluators', 2, 'the pipeline has no evaluators, and the plugin registry has no default evaluator for it'],
          ['/loss', 2, 'the pipeline has no loss, and the plugin registry has no default loss-weight for it'],
        ],
      );
      return true;
    },
  );
});

test('a missing pipeline file is a user error naming the file', async () => {
  await assert.rejects(loadPipeline(valid('no-such-pipeline.yaml'), { registry: stableRegistry() }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.problems[0]!.message, /^pipeline file not found: .*no-such-pipeline\.yaml$/);
    return true;
  });
});

test('a path option written in an extended file resolves from that file and is re-expressed from the pipeline', async () => {
  const grandchild = testPath('core', 'config', 'fixtures', 'valid', 'nested', 'grandchild.yaml');
  const loaded = await loadPipeline(grandchild, { environment, registry: stableRegistry() });
  assert.deepEqual(loaded.sourceFiles, [grandchild, valid('child.yaml'), valid('base.yaml')]);
  assert.equal(loaded.config.dataset.options.directory, path.join('..', '..', 'data'));
  assert.equal(path.resolve(loaded.baseDirectory, loaded.config.dataset.options.directory), testPath('core', 'config', 'fixtures', 'data'));
  assert.equal(loaded.config.name, 'grandchild');
  assert.equal(loaded.config.loss.use, 'linear', 'inherited through two files');
});

test('a message about a secret option never quotes its value', async () => {
  const loaded = loadPipeline(valid('base.yaml'), { environment: { FIXTURE_API_KEY: 'not-a-token' }, registry: stableRegistry() });
  await assert.rejects(loaded, (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.deepEqual(
      error.problems.map((problem) => [problem.pointer, problem.message]),
      [['/teacher/options/api_key', 'the secret value must match the pattern ^sk-']],
    );
    assert.ok(!JSON.stringify(error.problems).includes('not-a-token'));
    return true;
  });
});

test('YAML anchors, aliases and merge keys work, and x- keys that hold anchors are dropped', async () => {
  const loaded = await loadPipeline(valid('anchors.yaml'), { environment: {}, registry: stableRegistry() });
  const { config } = loaded;
  assert.deepEqual(config.evaluators[0], { use: 'exact-match', options: { ignore_case: false } }, 'from the x- anchor');
  assert.equal(config.evaluators[1]!.use, 'numeric-equality');
  assert.deepEqual(config.trainer.options, { optimizer: { learning_rate: 0.001, weight_decay: 0 }, steps: 100, device: 'auto' });
  assert.equal((config as unknown as Record<string, unknown>)['x-strict'], undefined);
});
