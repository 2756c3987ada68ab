import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { pipelineLimits } from '../../../core/config/pipeline-limits.js';
import { applyRecipeParams } from '../../../core/config/recipe-params.js';
import { resolveExtends } from '../../../core/config/resolve-extends.js';
import { displayPath } from '../../../core/config/source-map.js';
import type { Problem } from '../../../core/errors/problem.js';
import { UserError } from '../../../core/errors/user-error.js';
import { testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { stableRegistry } from './stable-registry.js';

const fixturePlugins = testPath('core', 'config', 'fixtures', 'plugins', 'fixture-plugins.js');

// A recipe over the configuration tests' fixture plugins whose values come from its params: a
// required string, a typed default, a mapping, a path and one used inside a longer text.
const recipe = `# the recipe
params:
  model:
    type: string
    minLength: 1
    description: The teacher's model.
  max_tokens: { type: integer, minimum: 1, default: 64 }
  data_folder:
    type: string
    default: data
    description: Folder of the split files.
  headers:
    type: object
    default:
      organization: acme
name: recipe
plugins:
  - ${JSON.stringify(fixturePlugins)}
dataset:
  use: fixture-dataset
  options:
    directory: \${params.data_folder}
teacher:
  use: fixture-teacher
  options:
    model: \${params.model}
    max_tokens: "\${params.max_tokens}"
    headers: \${params.headers}
prompt:
  use: fixture-prompt
  options:
    template: "Answer as \${params.model} would, in \${params.max_tokens} tokens: {question}"
    system: "literal $\${params.model}"
parser:
  use: fixture-parser
student:
  size: tiny
trainer:
  use: fixture-trainer
x-leading: "\${params.model} answers"
`;

/** A project folder holding `pipeline.yaml` (the given text) beside `recipes/recipe.yaml`. */
function writeProject(
  context: TestContext,
  pipeline: string,
  recipeText = recipe,
): { directory: string; pipeline: string; recipe: string } {
  const directory = temporaryDirectory(context);
  mkdirSync(path.join(directory, 'recipes'));
  writeFileSync(path.join(directory, 'recipes', 'recipe.yaml'), recipeText);
  writeFileSync(path.join(directory, 'pipeline.yaml'), pipeline);
  return { directory, pipeline: path.join(directory, 'pipeline.yaml'), recipe: path.join(directory, 'recipes', 'recipe.yaml') };
}

/** The problems loading a pipeline reports (it must fail with a UserError). */
async function problemsOf(file: string): Promise<readonly Problem[]> {
  try {
    await loadPipeline(file, { environment: {}, registry: stableRegistry() });
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`${file} loaded without problems`);
}

test('with: values and defaults fill the recipe: whole references keep their type, references in text become text', async (context) => {
  const project = writeProject(
    context,
    'extends: ./recipes/recipe.yaml\nname: mine\nwith:\n  model: big-model\n  max_tokens: 32\n  data_folder: data\n',
  );
  mkdirSync(path.join(project.directory, 'data'));
  const { config } = await loadPipeline(project.pipeline, { environment: {}, registry: stableRegistry() });
  assert.equal(config.name, 'mine');
  assert.deepEqual(config.teacher.options, { model: 'big-model', max_tokens: 32, headers: { organization: 'acme' }, temperature: 0 });
  assert.deepEqual(config.prompt.options, {
    template: 'Answer as big-model would, in 32 tokens: {question}',
    system: 'literal ${params.model}',
  });
  assert.equal(config.dataset.options.directory, 'data', 'the path set under with: is relative to the pipeline that sets it');
  const settings = config as unknown as Record<string, unknown>;
  assert.equal('params' in settings || 'with' in settings, false, 'params and with are consumed');
});

test('a default path is relative to the recipe that writes it, a with: path to the file that sets it', async (context) => {
  const project = writeProject(context, 'extends: ./recipes/recipe.yaml\nwith: { model: m }\n');
  // Only the recipe's folder has data/: the default resolves there.
  mkdirSync(path.join(project.directory, 'recipes', 'data'));
  const fromDefault = await loadPipeline(project.pipeline, { environment: {}, registry: stableRegistry() });
  assert.equal(fromDefault.config.dataset.options.directory, path.join('recipes', 'data'));

  writeFileSync(project.pipeline, 'extends: ./recipes/recipe.yaml\nwith: { model: m, data_folder: data }\n');
  const problems = await problemsOf(project.pipeline);
  assert.deepEqual(
    problems.map(({ file, line, column, pointer, message }) => ({ file, line, column, pointer, message })),
    [
      {
        file: displayPath(project.pipeline),
        line: 2,
        column: 32,
        pointer: '/dataset/options/directory',
        message: `path not found: ${path.join(project.directory, 'data')}`,
      },
    ],
    'a with: path that does not exist is reported where with: sets it, resolved from that file',
  );
});

test('each filled-in value keeps the position where it was written: the with: entry or the default', async (context) => {
  const project = writeProject(context, 'extends: ./recipes/recipe.yaml\nwith:\n  model: big-model\n');
  const applied = await applyRecipeParams(await resolveExtends(project.pipeline, {}));
  assert.deepEqual(applied.problems, []);
  const at = (pointer: string) => {
    const position = applied.sourceMap.get(pointer)?.value;
    return position && `${path.basename(position.file)}:${position.line}:${position.column}`;
  };
  assert.equal(at('/teacher/options/model'), 'pipeline.yaml:3:10');
  assert.equal(at('/teacher/options/max_tokens'), 'recipe.yaml:7:53', "the default's position");
  assert.equal(at('/teacher/options/headers/organization'), 'recipe.yaml:15:21', 'positions inside a mapping value follow it');
  assert.equal(at('/prompt/options/template'), 'recipe.yaml:32:15', 'a text with a reference inside stays where it is');
  assert.equal(at('/x-leading'), 'pipeline.yaml:3:10', 'a text that starts with a reference is placed where its value was written');
  assert.equal(
    [...applied.sourceMap.keys()].some((pointer) => pointer.startsWith('/params') || pointer.startsWith('/with')),
    false,
    'no position of the removed keys is left',
  );
});

test('params and with merge through extends: a recipe sets its parent’s params, the pipeline overrides it', async (context) => {
  const project = writeProject(context, 'extends: ./recipes/team.yaml\nname: mine\nwith:\n  max_tokens: 16\n');
  mkdirSync(path.join(project.directory, 'recipes', 'data'));
  writeFileSync(
    path.join(project.directory, 'recipes', 'team.yaml'),
    'extends: ./recipe.yaml\nparams:\n  max_tokens: { type: integer, maximum: 100, default: 50 }\nwith:\n  model: team-model\n  max_tokens: 40\n',
  );
  const { config } = await loadPipeline(project.pipeline, { environment: {}, registry: stableRegistry() });
  assert.equal(config.teacher.options.model, 'team-model');
  assert.equal(config.teacher.options.max_tokens, 16);

  writeFileSync(project.pipeline, 'extends: ./recipes/team.yaml\nwith:\n  max_tokens: 500\n');
  const [problem, ...others] = await problemsOf(project.pipeline);
  assert.deepEqual(others, []);
  assert.deepEqual(problem, {
    file: displayPath(project.pipeline),
    line: 3,
    column: 15,
    pointer: '/with/max_tokens',
    message: 'param "max_tokens": must be <= 100, got 500',
    fix: `the param is declared at ${displayPath(path.join(project.directory, 'recipes', 'team.yaml'))}:3:3`,
  });
});

test('a required param nothing sets is reported at the pipeline’s extends, naming the recipe and the with: line to add', async (context) => {
  const project = writeProject(context, '# mine\nname: mine\nextends: ./recipes/recipe.yaml\n');
  assert.deepEqual(await problemsOf(project.pipeline), [
    {
      file: displayPath(project.pipeline),
      line: 3,
      column: 10,
      pointer: '/with/model',
      message: `the recipe ${displayPath(project.recipe)} requires the param "model", and nothing sets it`,
      fix: `add "model: <string>" under with: in ${displayPath(project.pipeline)} (The teacher's model.)`,
    },
  ]);
});

test('a value its schema refuses, a with: key nobody declares and an undeclared reference are located with a fix', async (context) => {
  const project = writeProject(
    context,
    'extends: ./recipes/recipe.yaml\nwith:\n  model: ""\n  max_token: 12\n  headers: [a]\ndescription: "made by ${params.authr}"\n',
  );
  const shown = displayPath(project.pipeline);
  const declared = displayPath(project.recipe);
  assert.deepEqual(await problemsOf(project.pipeline), [
    {
      file: shown,
      line: 3,
      column: 10,
      pointer: '/with/model',
      message: 'param "model": must not be empty',
      fix: `the param is declared at ${declared}:3:3: The teacher's model.`,
    },
    {
      file: shown,
      line: 4,
      column: 3,
      pointer: '/with/max_token',
      message: 'with sets "max_token", which no recipe this pipeline extends declares as a param',
      fix: 'did you mean "max_tokens"? declared params: model, max_tokens, data_folder, headers',
    },
    {
      file: shown,
      line: 5,
      column: 12,
      pointer: '/with/headers',
      message: 'param "headers": must be object, got array',
      fix: `the param is declared at ${declared}:12:3`,
    },
    {
      file: shown,
      line: 6,
      column: 14,
      pointer: '/description',
      message: '${params.authr} names no declared param',
      fix: 'declared params: model, max_tokens, data_folder, headers',
    },
  ]);
});

test('a recipe’s own mistakes: a schema ajv refuses, a default its schema refuses, a list used inside text', async (context) => {
  const broken = `params:
  labels: { type: array, items: { type: string }, default: [yes, no] }
  rate: { type: number, maximum: 1, default: 2 }
  size: { type: integer, minimun: 1 }
  bad-name: { type: string }
name: broken
description: "labels: \${params.labels}"
`;
  const project = writeProject(context, 'extends: ./recipes/recipe.yaml\n', broken);
  const problems = await problemsOf(project.pipeline);
  const recipeFile = displayPath(project.recipe);
  assert.deepEqual(
    problems.map(({ file, line, column, pointer, message }) => ({ file, line, column, pointer, message })),
    [
      { file: recipeFile, line: 3, column: 46, pointer: '/params/rate/default', message: 'param "rate": must be <= 1, got 2' },
      {
        file: recipeFile,
        line: 4,
        column: 9,
        pointer: '/params/size',
        message: 'the schema of the param "size" is not a valid JSON Schema: strict mode: unknown keyword: "minimun"',
      },
      { file: recipeFile, line: 5, column: 3, pointer: '/params/bad-name', message: '"bad-name" is not a param name' },
      {
        file: recipeFile,
        line: 7,
        column: 14,
        pointer: '/description',
        message: '${params.labels} is a list, which cannot be written inside text',
      },
    ],
  );
  assert.match(problems[0]!.fix!, /^the recipe's default is wrong: fix it there, or set the param under with:; /);
});

test('filling in params may not grow the pipeline past its limit on keys and values', async (context) => {
  const items = Array.from({ length: 1_000 }, (_, index) => index).join(', ');
  const references = Array.from({ length: 60 }, (_, index) => `x-copy-${index}: \${params.big}`).join('\n');
  const project = writeProject(
    context,
    'extends: ./recipes/recipe.yaml\n',
    `params:\n  big: { type: array, default: [${items}] }\n${references}\n`,
  );
  const problems = await problemsOf(project.pipeline);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.equal(problems[0]!.message, `filling in \${params.big} takes the pipeline past ${pipelineLimits.maxNodes} keys and values`);
  assert.equal(problems[0]!.file, displayPath(project.recipe));
});

test('--set cannot change params or with, which are consumed before overrides apply: it says so', async (context) => {
  const project = writeProject(context, 'extends: ./recipes/recipe.yaml\nwith:\n  model: big-model\n');
  mkdirSync(path.join(project.directory, 'recipes', 'data'));
  const overrides = ['with.model=other-model', 'params={}'];
  await assert.rejects(loadPipeline(project.pipeline, { environment: {}, registry: stableRegistry(), overrides }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.deepEqual(
      error.problems.map(({ file, pointer, message }) => ({ file, pointer, message })),
      [
        { file: '--set params={}', pointer: '/params', message: 'params is resolved before overrides apply, so --set cannot change it' },
        {
          file: '--set with.model=other-model',
          pointer: '/with',
          message: 'with is resolved before overrides apply, so --set cannot change it',
        },
      ],
    );
    return true;
  });
});
