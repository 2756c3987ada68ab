import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import { PluginRegistry } from '../../../core/plugins/plugin-registry.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';

test('an unknown id fails with the ids of that kind and a did-you-mean', () => {
  const registry = builtinRegistry();
  assert.throws(
    () => registry.get('evaluator', 'exact-mach'),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      const problem = error.problems[0]!;
      assert.equal(problem.message, 'unknown evaluator plugin "exact-mach"');
      assert.equal(problem.fix, 'did you mean "exact-match"? available evaluator plugins: exact-match, numeric-equality');
      return true;
    },
  );
});

test('a malformed descriptor is rejected field by field', () => {
  const registry = new PluginRegistry();
  assert.throws(
    () =>
      registry.register({ id: 'Bad Id', kind: 'teachr', version: '1', summary: '', optionsSchema: {}, create: 3 } as never, 'my-plugin.js'),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      const messages = error.problems.map((problem) => problem.message);
      assert.deepEqual(messages, [
        'my-plugin.js: "id" must be a kebab-case string, got "Bad Id"',
        'my-plugin.js: "kind" must be one of dataset, teacher, prompt, parser, sampler, loss-weight, trainer, evaluator, exporter, got "teachr"',
        'my-plugin.js: "version" must be a semantic version such as "1.0.0", got "1"',
        'my-plugin.js: "summary" must be a non-empty one-line string',
        'my-plugin.js: "optionsSchema" must describe an object (type: "object")',
        'my-plugin.js: "create" must be a function (options, dependencies) => instance, got number',
      ]);
      return true;
    },
  );
});

test('two plugins with the same kind and id are refused', () => {
  const registry = builtinRegistry();
  assert.throws(() => registry.register(registry.list()[0]!), /already registered/);
});

test('sweep axes and a teacher accounting are checked like the other descriptor fields', () => {
  const base = {
    version: '1.0.0',
    summary: 'x',
    optionsSchema: { type: 'object', properties: { rate: { type: 'number' } } },
    create: () => ({}),
  };
  const registry = new PluginRegistry();
  assert.throws(
    () =>
      registry.register(
        { ...base, id: 'odd-sampler', kind: 'sampler', sweepAxes: [{ name: 'temperature', option: 'rat', unsetValue: '1' }] } as never,
        'odd.js',
      ),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.deepEqual(
        error.problems.map((problem) => problem.message),
        [
          'odd.js: "sweepAxes[0]".name must be one of data_fraction, rationale_rate, alpha, min_confidence, got "temperature"',
          'odd.js: "sweepAxes[0]".option must name a property of the options schema, got "rat"',
          'odd.js: "sweepAxes[0]".unsetValue must be a number',
        ],
      );
      return true;
    },
  );
  assert.throws(
    () =>
      registry.register({ ...base, id: 'odd-teacher', kind: 'teacher', accounting: 'openai', comparisonOptions: [] } as never, 'odd.js'),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.deepEqual(
        error.problems.map((problem) => problem.message),
        [
          'odd.js: "accounting" must be a function (options) => { provider, model, … }, got string',
          'odd.js: "comparisonOptions" must be an options object',
        ],
      );
      return true;
    },
  );
  registry.register({
    ...base,
    id: 'fine-sampler',
    kind: 'sampler',
    sweepAxes: [{ name: 'rationale_rate', option: 'rate', unsetValue: 1 }],
  } as never);
  assert.equal(registry.sweepAxisOwner('rationale_rate')?.descriptor.id, 'fine-sampler');
  assert.equal(registry.sweepAxisOwner('alpha'), null);
});

test('the built-in default steps name built-in plugins of their kinds', () => {
  // A registry does not check its defaults when built (a pipeline reports an unknown one where it is used).
  const builtins = builtinRegistry();
  const { loss, evaluators, exporter } = builtins.defaults;
  assert.ok(loss && builtins.has('loss-weight', loss.use), 'the default loss weight');
  assert.ok(
    evaluators && evaluators.length > 0 && evaluators.every((step) => builtins.has('evaluator', step.use)),
    'the default evaluators',
  );
  assert.ok(exporter && builtins.has('exporter', exporter.use), 'the default exporter');
  assert.deepEqual(new PluginRegistry().defaults, {});
});
