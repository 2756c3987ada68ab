import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { UserError } from '../../../core/errors/user-error.js';
import { testPath } from '../../support/paths.js';
import { stableRegistry } from './stable-registry.js';

const base = testPath('core', 'config', 'fixtures', 'valid', 'base.yaml');
const environment = { FIXTURE_API_KEY: 'sk-fixture-secret-1' };

/** The problems of the UserError a load throws. */
async function loadProblems(overrides: string[]): Promise<UserError['problems']> {
  try {
    await loadPipeline(base, { environment, registry: stableRegistry(), overrides });
  } catch (error) {
    assert.ok(error instanceof UserError, `a UserError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail('the load should have failed');
}

test('--set values are read as YAML scalars and replace or add keys of the pipeline', async () => {
  const loaded = await loadPipeline(base, {
    environment,
    registry: stableRegistry(),
    overrides: [
      'trainer.options.steps=25',
      'teacher.options.model=large-model',
      'teacher.options.max_tokens=64',
      'evaluators.0.options.ignore_case=false',
    ],
  });
  assert.equal(loaded.config.trainer.options.steps, 25, 'a number, not the string "25"');
  assert.equal(loaded.config.teacher.options.model, 'large-model');
  assert.equal(loaded.config.teacher.options.max_tokens, 64, 'a key the file does not write is added');
  assert.equal(loaded.config.evaluators[0]!.options.ignore_case, false, 'a list item by its index; a boolean');
  assert.deepEqual(
    loaded.overrides.map((override) => override.pointer),
    ['/trainer/options/steps', '/teacher/options/model', '/teacher/options/max_tokens', '/evaluators/0/options/ignore_case'],
  );
  const redacted = loaded.redactedConfig as { trainer: { options: { steps: number } } };
  assert.equal(redacted.trainer.options.steps, 25, 'the resolved config shows the override');
});

test('an unknown --set path is an error with its JSON pointer and a did-you-mean, before any validation of it', async () => {
  const problems = await loadProblems(['trainr.options.steps=5']);
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.pointer, '/trainr');
  assert.equal(problems[0]!.file, '--set trainr.options.steps=5');
  assert.match(problems[0]!.message, /the pipeline has no \/trainr/);
  assert.match(problems[0]!.fix ?? '', /did you mean "trainer"\?/);
});

test('a --set without "=" or past a scalar says what an override looks like', async () => {
  const problems = await loadProblems(['trainer.options.steps', 'seed.value=3']);
  assert.equal(problems.length, 2);
  assert.match(problems.find((problem) => problem.file === '--set trainer.options.steps')!.message, /path\.to\.key=value/);
  const scalar = problems.find((problem) => problem.file === '--set seed.value=3')!;
  assert.equal(scalar.pointer, '/seed');
  assert.match(scalar.message, /not a mapping or a list/);
});

test('a --set value the schema rejects is reported at the --set, saying it came from there', async () => {
  const problems = await loadProblems(['trainer.options.steps=many']);
  const problem = problems.find((each) => each.pointer === '/trainer/options/steps');
  assert.ok(problem, JSON.stringify(problems));
  assert.equal(problem.file, '--set trainer.options.steps=many');
  assert.equal(problem.line, undefined, 'no line of the file it replaced');
  assert.match(problem.message, /\(set by --set\)$/);
});

test('a secret set by --set is redacted in the resolved config', async () => {
  const loaded = await loadPipeline(base, {
    environment,
    registry: stableRegistry(),
    overrides: ['teacher.options.api_key=sk-from-the-command-line'],
  });
  assert.equal(loaded.config.teacher.options.api_key, 'sk-from-the-command-line');
  assert.doesNotMatch(JSON.stringify(loaded.redactedConfig), /sk-from-the-command-line/);
});
