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
