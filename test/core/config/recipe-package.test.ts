import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { resolveExtends } from '../../../core/config/resolve-extends.js';
import type { Problem } from '../../../core/errors/problem.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { runDistill } from '../../support/run-distill.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

// Recipe packages as `npm install` leaves them: folders under a project's node_modules/, written by
// each test (no registry, no npm). Errors are asserted through `distill validate --json`, as a user
// meets them.

/** Writes files (path relative to `directory` → text) and returns `directory`. */
function writeFiles(directory: string, files: Readonly<Record<string, string>>): string {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(directory, name)), { recursive: true });
    writeFileSync(path.join(directory, name), text);
  }
  return directory;
}

/** A `package.json` of a recipe package. */
function manifest(name: string, version: string, recipes: Readonly<Record<string, string>> = {}): string {
  const declared = Object.fromEntries(
    Object.entries(recipes).map(([recipe, file]) => [recipe, { file, description: `the ${recipe} recipe` }]),
  );
  return JSON.stringify({ name, version, distill: { recipes: declared } }, null, 2);
}

// A complete recipe over built-in plugins and a parser plugin the package ships, spread over two
// files of the package (the second reached by a relative extends), with its data inside the package.
const reviewsPackage = {
  'package.json': manifest('@acme/recipes', '1.2.0', { reviews: 'recipes/reviews.yaml' }),
  'recipes/student.yaml': 'student:\n  size: tiny\ntrainer:\n  use: torch\n  options: { batch_size: 4 }\n',
  'recipes/reviews.yaml': `extends: ./student.yaml
params:
  train_file: { type: string, description: "Training examples (JSON Lines)" }
  labels: { type: array, items: { type: string }, minItems: 2, default: [positive, negative] }
plugins:
  - ../plugins/first-word-parser.js
  - acme-evaluator
name: reviews
dataset:
  use: jsonl
  options:
    files: { train: "\${params.train_file}", test: ../data/test.jsonl }
    id_field: id
    label_field: label
    labels: \${params.labels}
    fields: { review: text }
    student_input: "Review: {review}"
  splits: { train: train, test: test }
teacher:
  use: recorded
  options: { source: jsonl, file: ../data/recorded.jsonl }
prompt:
  use: template
  options:
    template_file: ../prompts/reviews.txt
parser:
  use: first-word
`,
  'plugins/first-word-parser.js': `export default {
  id: 'first-word',
  kind: 'parser',
  version: '1.0.0',
  summary: 'The first word of the answer is the label (recipe package fixture).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create() {
    return { parse: (completion) => ({ status: 'parsed', label: completion.trim().split(/\\s+/)[0] ?? '', rationale: null }) };
  },
};
`,
  // A plugin package only this package depends on: found from the recipe, as Node finds a dependency.
  'node_modules/acme-evaluator/package.json': JSON.stringify({
    name: 'acme-evaluator',
    version: '1.0.0',
    type: 'module',
    main: 'index.js',
  }),
  'node_modules/acme-evaluator/index.js': `export default {
  id: 'acme-match',
  kind: 'evaluator',
  version: '1.0.0',
  summary: 'Exact match (recipe package fixture).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({ metric: 'exact-match', score: (prediction, gold) => Number(prediction === gold) }),
};
`,
  'prompts/reviews.txt': 'Is this review positive or negative? {review}\n',
  'data/test.jsonl': '{"id": "t1", "text": "Broke on day one.", "label": "negative"}\n',
  'data/recorded.jsonl': '{"id": "t1", "completion": "negative, it broke"}\n',
};

/** A project with `@acme/recipes` installed and the given files of its own. */
function writeProject(context: TestContext, files: Readonly<Record<string, string>>): string {
  const project = temporaryDirectory(context);
  writeFiles(path.join(project, 'node_modules', '@acme', 'recipes'), reviewsPackage);
  return writeFiles(project, files);
}

/** What `distill validate --json` reports about one pipeline: its problems (none when valid). */
async function validate(pipeline: string): Promise<Problem[]> {
  const result = await runDistill(['validate', '--json', pipeline]);
  const output = JSON.parse(result.stdout) as { valid: boolean; pipelines: { valid: boolean; problems: Problem[] }[] };
  assert.equal(result.code, output.valid ? 0 : 1, result.stderr);
  assert.equal(result.stderr, '', 'nothing else is printed');
  return output.pipelines[0]!.problems;
}

/**
 * Asserts that `distill validate` finds one problem in `pipeline`: by default at its `extends:`
 * value on line 1 (`where` says otherwise; `pointer: null` for none). Files are compared as
 * absolute paths: the child shows them relative to its working directory when inside it.
 */
async function assertOneProblem(
  pipeline: string,
  expected: Pick<Problem, 'message' | 'fix'>,
  where: { file?: string; line?: number; pointer?: string | null } = {},
): Promise<void> {
  const problems = (await validate(pipeline)).map((problem) => ({
    ...problem,
    ...(problem.file ? { file: path.resolve(problem.file) } : {}),
  }));
  const wanted = { file: pipeline, line: 1, column: 10, pointer: '/extends', ...where, ...expected };
  // `pointer: null` takes the pointer away (a syntax error has none).
  assert.deepEqual(problems, [Object.fromEntries(Object.entries(wanted).filter(([, value]) => value !== null))]);
}

test('a package recipe extends, names plugins and data inside its package; with: paths stay the user’s', async (context) => {
  const project = writeProject(context, {
    'pipeline.yaml': 'extends: "@acme/recipes/reviews"\nwith:\n  train_file: data/train.jsonl\n',
    'data/train.jsonl': '{"id": "r1", "text": "Works well.", "label": "positive"}\n',
  });
  const pipeline = path.join(project, 'pipeline.yaml');
  assert.deepEqual(await validate(pipeline), []);

  const { config, registry } = await loadPipeline(pipeline, { registry: builtinRegistry(), environment: {} });
  const inPackage = (file: string) => path.join('node_modules', '@acme', 'recipes', file);
  assert.deepEqual(config.dataset.options.files, { train: 'data/train.jsonl', test: inPackage('data/test.jsonl') });
  assert.deepEqual(config.dataset.options.labels, ['positive', 'negative']);
  assert.equal(config.teacher.options.file, inPackage('data/recorded.jsonl'));
  assert.equal(config.prompt.options.template_file, inPackage('prompts/reviews.txt'), 'a prompt template file ships beside the recipe');
  assert.ok(registry.has('parser', 'first-word'), "the package's plugin file is loaded from beside its recipe");
  assert.ok(registry.has('evaluator', 'acme-match'), "a plugin package is resolved from the recipe, in the package's own node_modules");
  assert.equal(config.student.size, 'tiny', 'the relative extends inside the package is followed');

  const resolved = await resolveExtends(pipeline, {});
  const packageRoot = path.join(project, 'node_modules', '@acme', 'recipes');
  assert.deepEqual(
    resolved.recipeSources,
    ['recipes/reviews.yaml', 'recipes/student.yaml'].map((recipe) => ({
      file: path.join(packageRoot, recipe),
      packageName: '@acme/recipes',
      packageRoot,
      packageVersion: '1.2.0',
      recipe,
    })),
    'both package files are recipe sources, nearest first',
  );
});

test('a package that is not installed is reported at the extends, with the install command', async (context) => {
  const project = writeProject(context, { 'pipeline.yaml': 'name: mine\nextends: "@acme/nli-recipes/nli.yaml"\n' });
  const pipeline = path.join(project, 'pipeline.yaml');
  await assertOneProblem(
    pipeline,
    {
      message: `extends names the package @acme/nli-recipes, which is not installed where ${pipeline} can find it (no node_modules/@acme/nli-recipes in its folder or above)`,
      fix: 'install it (`npm install @acme/nli-recipes`), or write a relative path (./@acme/nli-recipes/nli.yaml) for a file of this project',
    },
    { line: 2 },
  );
});

test('a recipe the package does not have is reported with the recipes it has', async (context) => {
  const project = writeProject(context, { 'pipeline.yaml': 'extends: "@acme/recipes/review"\n' });
  await assertOneProblem(path.join(project, 'pipeline.yaml'), {
    message: 'the package @acme/recipes@1.2.0 has no recipe "review"',
    fix: 'name one of its recipes: reviews (recipes/reviews.yaml)',
  });
});

test('a path out of the package is refused, written with .., declared so, or through a symbolic link', async (context) => {
  const project = writeProject(context, {
    'pipeline.yaml': 'extends: "@acme/recipes/../secret.yaml"\n',
    'linked.yaml': 'extends: "@acme/recipes/recipes/linked.yaml"\n',
    'declared.yaml': 'extends: "@acme/escape/nli"\n',
    'node_modules/@acme/secret.yaml': 'name: secret\n',
    'node_modules/@acme/escape/package.json': manifest('@acme/escape', '0.1.0', { nli: '../secret.yaml' }),
  });
  symlinkSync(
    path.join(project, 'node_modules', '@acme', 'secret.yaml'),
    path.join(project, 'node_modules', '@acme', 'recipes', 'recipes', 'linked.yaml'),
  );
  const fix = 'name one of its recipes: reviews (recipes/reviews.yaml)';
  await assertOneProblem(path.join(project, 'pipeline.yaml'), {
    message: 'extends "@acme/recipes/../secret.yaml" leaves the package @acme/recipes: a recipe is a file inside its package',
    fix,
  });
  await assertOneProblem(path.join(project, 'linked.yaml'), {
    message: 'extends "@acme/recipes/recipes/linked.yaml" leaves the package @acme/recipes: a recipe is a file inside its package',
    fix,
  });
  await assertOneProblem(path.join(project, 'declared.yaml'), {
    message: 'the package @acme/escape@0.1.0 declares the recipe "nli" at "../secret.yaml", outside the package',
    fix: 'the package is broken (a recipe file must lie inside it): tell its authors, or extend another of its recipes',
  });
});

test('a cycle across two packages is reported where it closes', async (context) => {
  const project = writeProject(context, { 'pipeline.yaml': 'extends: "pack-a/a.yaml"\n' });
  const modules = path.join(project, 'node_modules');
  writeFiles(path.join(modules, 'pack-a'), { 'package.json': manifest('pack-a', '1.0.0'), 'a.yaml': 'extends: pack-b/b.yaml\n' });
  writeFiles(path.join(modules, 'pack-b'), { 'package.json': manifest('pack-b', '2.0.0'), 'b.yaml': '# b\nextends: pack-a/a.yaml\n' });
  const [a, b] = [path.join(modules, 'pack-a', 'a.yaml'), path.join(modules, 'pack-b', 'b.yaml')];
  await assertOneProblem(
    path.join(project, 'pipeline.yaml'),
    { message: `extends cycle: ${a} → ${b} → ${a}`, fix: 'remove the `extends` that leads back to a file already in the chain' },
    { file: b, line: 2 },
  );
});

test('a package.json without name and version is reported at the extends', async (context) => {
  const project = writeProject(context, { 'pipeline.yaml': 'extends: "nameless/recipe.yaml"\n' });
  const packageFile = path.join(project, 'node_modules', 'nameless', 'package.json');
  writeFiles(path.dirname(packageFile), { 'package.json': '{ "description": "no name, no version" }', 'recipe.yaml': 'name: x\n' });
  await assertOneProblem(path.join(project, 'pipeline.yaml'), {
    message: `the package nameless cannot be read: ${packageFile} has no name and version`,
    fix: 'reinstall the package (`npm install`)',
  });
});

test('a file of the project wins over a package of the same name, as extends: shared/base.yaml always meant', async (context) => {
  const project = writeProject(context, {
    'pipeline.yaml': 'extends: shared/base.yaml\nwith:\n  train_file: data/train.jsonl\n',
    'shared/base.yaml': 'extends: "@acme/recipes/reviews"\ndescription: the project’s own\n',
    'data/train.jsonl': '{"id": "r1", "text": "Works well.", "label": "positive"}\n',
    // Read instead, it would fail: an unknown key.
    'node_modules/shared/package.json': manifest('shared', '9.9.9'),
    'node_modules/shared/base.yaml': 'colour: red\n',
  });
  const pipeline = path.join(project, 'pipeline.yaml');
  assert.deepEqual(await validate(pipeline), []);
  const { config } = await loadPipeline(pipeline, { registry: builtinRegistry(), environment: {} });
  assert.equal(config.description, 'the project’s own');
});

test('an unquoted scoped package name gets the fix of quoting it', async (context) => {
  const project = writeProject(context, { 'pipeline.yaml': 'extends: @acme/recipes/reviews\n' });
  await assertOneProblem(
    path.join(project, 'pipeline.yaml'),
    {
      message: 'YAML syntax error: Plain value cannot start with reserved character @',
      fix: 'quote the value: a scoped package is written "@acme/recipes/nli"',
    },
    { pointer: null },
  );
});

test("a recipe's required param left unset is reported at the pipeline's extends, naming the package recipe", async (context) => {
  const project = writeProject(context, { 'pipeline.yaml': '# mine\nextends: "@acme/recipes/reviews"\n' });
  const pipeline = path.join(project, 'pipeline.yaml');
  await assertOneProblem(
    pipeline,
    {
      message: 'the recipe @acme/recipes@1.2.0/recipes/reviews.yaml requires the param "train_file", and nothing sets it',
      fix: `add "train_file: <string>" under with: in ${pipeline} (Training examples (JSON Lines))`,
    },
    { line: 2, pointer: '/with/train_file' },
  );
});
