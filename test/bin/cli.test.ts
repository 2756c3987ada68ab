import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Ajv } from 'ajv';
import formatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { repositoryRoot, testPath } from '../support/paths.js';

// These tests run the real `distill` binary (bin/run.js over dist/), as a user would.
const misspelt = testPath('bin', 'fixtures', 'misspelt-loss.yaml');
const misspeltTeacher = testPath('bin', 'fixtures', 'misspelt-teacher.yaml');
const validPipeline = testPath('core', 'config', 'fixtures', 'valid', 'base.yaml');
const recipes = testPath('core', 'config', 'fixtures', 'recipes');
const environment: NodeJS.ProcessEnv = { ...process.env, FIXTURE_API_KEY: 'sk-fixture-secret-1' };
delete environment.FIXTURE_DATA_DIRECTORY; // init must make the recipe's own relative paths work
const scratch = mkdtempSync(path.join(tmpdir(), 'distill-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function distill(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [path.join(repositoryRoot, 'bin', 'run.js'), ...args], {
    cwd: repositoryRoot,
    env: environment,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((formatsModule as unknown as { default?: typeof formatsModule }).default ?? formatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

const stackTraceLine = /^\s+at .+:\d+:\d+\)?$/m;

test('validate: a key misspelt three levels deep prints file:line:col, pointer and did-you-mean, exits 1, no stack', () => {
  const result = distill('validate', path.relative(repositoryRoot, misspelt), path.relative(repositoryRoot, misspeltTeacher));
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    /test\/bin\/fixtures\/misspelt-loss\.yaml:7:5 \/loss\/options\/ned \[loss-weight\/linear\]\n {2}unknown key "ned"\n {2}fix: did you mean "end"\? expected keys: start, end/,
  );
  assert.match(
    result.stderr,
    /test\/bin\/fixtures\/misspelt-teacher\.yaml:7:5 \/teacher\/options\/max_tokns \[teacher\/openai\]\n {2}unknown key "max_tokns"\n {2}fix: did you mean "max_tokens"\?/,
  );
  assert.doesNotMatch(result.stderr + result.stdout, stackTraceLine);
  assert.doesNotMatch(result.stdout, /✓/);
});

test('validate --json: one verdict per file with located problems', () => {
  const result = distill('validate', validPipeline, misspelt, '--json');
  assert.equal(result.status, 1);
  const output = JSON.parse(result.stdout) as {
    valid: boolean;
    pipelines: { file: string; valid: boolean; problems: Record<string, unknown>[] }[];
  };
  assert.equal(output.valid, false);
  assert.deepEqual(
    output.pipelines.map((pipeline) => [path.resolve(repositoryRoot, pipeline.file), pipeline.valid]),
    [
      [validPipeline, true],
      [misspelt, false],
    ],
  );
  assert.deepEqual(output.pipelines[0]!.problems, []);
  const problems = output.pipelines[1]!.problems;
  assert.deepEqual(
    problems.map(({ line, column, pointer, plugin, message }) => ({ line, column, pointer, plugin, message })),
    [
      { line: 6, column: 5, pointer: '/loss/options', plugin: 'loss-weight/linear', message: 'missing required key "end"' },
      { line: 7, column: 5, pointer: '/loss/options/ned', plugin: 'loss-weight/linear', message: 'unknown key "ned"' },
    ],
  );
});

test('schema: ajv (with the standard formats) compiles the output; it rejects the misspelling and accepts a valid pipeline', () => {
  const result = distill('schema');
  assert.equal(result.status, 0, result.stderr);
  const validate = addFormats(new Ajv({ allErrors: true })).compile(JSON.parse(result.stdout) as object);
  const misspeltDocument = parse(readFileSync(misspelt, 'utf8')) as Record<string, unknown>;
  const base = parse(readFileSync(validPipeline, 'utf8')) as Record<string, unknown>;
  assert.equal(validate(base), true, JSON.stringify(validate.errors));
  const merged = { ...base, loss: misspeltDocument.loss };
  assert.equal(validate(merged), false);
  assert.ok(
    validate.errors?.some(
      (error) =>
        error.instancePath === '/loss/options' && error.keyword === 'additionalProperties' && error.params.additionalProperty === 'ned',
    ),
    JSON.stringify(validate.errors),
  );
  const teacher = (parse(readFileSync(misspeltTeacher, 'utf8')) as Record<string, unknown>).teacher;
  assert.equal(validate({ ...base, teacher }), false);
  assert.ok(
    validate.errors?.some((error) => error.instancePath === '/teacher/options' && error.params.additionalProperty === 'max_tokns'),
    JSON.stringify(validate.errors),
  );
});

// Refusing to overwrite and unknown recipes are covered in-process by test/core/config/init-pipeline.test.ts.
test('init writes a pipeline from a recipe that then validates', () => {
  const output = path.join(scratch, 'pipeline.yaml');
  const written = distill('init', '--recipes-directory', recipes, '--recipe', 'fixture-thorough', '--output', output, '--json');
  assert.equal(written.status, 0, written.stderr);
  assert.deepEqual(JSON.parse(written.stdout), {
    recipe: 'fixture-thorough',
    output,
    schemaFile: path.join(scratch, 'distill.schema.json'),
  });
  const text = readFileSync(output, 'utf8');
  assert.equal(text.split('\n')[0], '# yaml-language-server: $schema=./distill.schema.json');
  assert.match(text, /^name: fixture-thorough$/m);

  const validated = distill('validate', output);
  assert.equal(validated.status, 0, validated.stderr);
  assert.match(validated.stdout, /^✓ .*pipeline\.yaml$/m);
});
