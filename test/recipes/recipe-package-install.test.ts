import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { RecipeListing } from '../../core/config/installed-recipes.js';
import { testPython } from '../core/inference/tiny-student-fixture.js';
import { environmentWithDistillOnPath } from '../support/distill-on-path.js';
import { distillBin } from '../support/run-distill.js';

// The "must show": a recipe package made by `distill init --recipe-package`, packed with
// `npm pack`, installed into a fresh project with `npm install <tarball>` (offline: nothing is
// fetched), extended in a few lines of YAML that set params through `with:`, and run offline end to
// end. Everything is a real process: npm, distill, the Python trainer.

const root = mkdtempSync(path.join(tmpdir(), 'distill-recipe-package-'));
after(() => rmSync(root, { recursive: true, force: true }));
const packageFolder = path.join(root, 'acme-recipes');
const project = path.join(root, 'project');
const installed = path.join(project, 'node_modules', '@acme', 'distill-recipes');
const recipe = '@acme/distill-recipes/nli-zero-shot';

/** npm with a scratch cache of its own, never asking the network or the user's cache. */
function npm(folder: string, ...args: string[]) {
  const result = spawnSync('npm', args, {
    cwd: folder,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, npm_config_cache: path.join(root, 'npm-cache'), npm_config_update_notifier: 'false' },
  });
  assert.equal(result.status, 0, `npm ${args.join(' ')}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** `distill …args` in `folder`. */
function distill(folder: string, ...args: string[]) {
  return spawnSync(process.execPath, [distillBin, ...args], { cwd: folder, encoding: 'utf8', timeout: 300_000 });
}

/** Validates `pipeline` in the project: exit 0. */
function validates(pipeline: string): void {
  const validated = distill(project, 'validate', pipeline);
  assert.equal(validated.status, 0, validated.stdout + validated.stderr);
}

before(() => {
  const scaffold = distill(root, 'init', '--recipe-package', packageFolder, '--name', '@acme/distill-recipes');
  assert.equal(scaffold.status, 0, scaffold.stderr);
  const packed = JSON.parse(npm(packageFolder, 'pack', '--json')) as { filename: string; files: { path: string }[] }[];
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'fresh-project', version: '1.0.0', private: true }));
  npm(project, 'install', '--offline', '--no-audit', '--no-fund', path.join(packageFolder, packed[0]!.filename));
});

test('the scaffolded package packs its recipe and fixture, installs offline, and distill recipes lists it with its params', () => {
  assert.ok(existsSync(path.join(installed, 'recipes', 'nli-zero-shot.yaml')));
  assert.ok(existsSync(path.join(installed, 'data', 'teacher.jsonl')), 'the fixture ships with the recipe its defaults name');
  assert.ok(!existsSync(path.join(installed, 'test')), 'the smoke test stays out of the package');
  const listed = distill(project, 'recipes', '--json');
  assert.equal(listed.status, 0, listed.stderr);
  const listing = JSON.parse(listed.stdout) as RecipeListing;
  assert.ok(listing.builtIn.some((entry) => entry.name === 'quickstart'));
  assert.deepEqual(
    listing.packages.map((entry) => [entry.name, entry.version, entry.recipes.map((declared) => declared.reference)]),
    [['@acme/distill-recipes', '0.1.0', [recipe]]],
  );
  const params = listing.packages[0]!.recipes[0]!.params;
  assert.deepEqual(
    params.map((param) => [param.name, param.required, param.default]),
    [
      ['train_file', false, '../data/train.jsonl'],
      ['test_file', false, '../data/test.jsonl'],
      ['teacher_answers', false, '../data/teacher.jsonl'],
      ['alpha', false, 0.5],
      ['max_steps', false, 8],
    ],
  );
  const text = distill(project, 'recipes');
  assert.match(text.stdout, /^ {2}@acme\/distill-recipes@0\.1\.0 {2}\(node_modules\/@acme\/distill-recipes\)$/m);
});

test('init --from writes a pipeline that extends the installed recipe, and it validates', () => {
  const written = distill(project, 'init', '--from', recipe, '--output', 'from-recipe.yaml');
  assert.equal(written.status, 0, written.stderr);
  const text = readFileSync(path.join(project, 'from-recipe.yaml'), 'utf8');
  assert.match(text, /^extends: "@acme\/distill-recipes\/nli-zero-shot"$/m);
  assert.match(text, /^ {2}# alpha: 0\.5 # number, optional: Weight of the label loss/m);
  // A default path is relative to the recipe; written for this pipeline, it is re-pointed from here.
  assert.match(text, /^ {2}# train_file: "\.\/node_modules\/@acme\/distill-recipes\/data\/train\.jsonl" # string, optional/m);
  // Uncommented as a user would, the default still names the package's file.
  const uncommented = text.replace(/^# with:$/m, 'with:').replace(/^ {2}# train_file:/m, '  train_file:');
  writeFileSync(path.join(project, 'from-recipe.yaml'), uncommented);
  validates('from-recipe.yaml');
});

test('init --from and init --recipe-package say what is wrong, with a fix and no stack trace', () => {
  const unknown = distill(project, 'init', '--from', '@acme/distill-recipes/nli-few-shot', '--output', 'unknown.yaml');
  assert.equal(unknown.status, 1);
  assert.match(unknown.stderr, /the package @acme\/distill-recipes@0\.1\.0 has no recipe "nli-few-shot"/);
  assert.match(unknown.stderr, /fix: name one of its recipes: nli-zero-shot \(recipes\/nli-zero-shot\.yaml\)/);
  assert.doesNotMatch(unknown.stderr, /\n\s+at /);
  assert.ok(!existsSync(path.join(project, 'unknown.yaml')));
  const again = distill(root, 'init', '--recipe-package', packageFolder);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /the folder is not empty; not writing a recipe package into it/);
  assert.doesNotMatch(again.stderr, /\n\s+at /);
});

test('a 10-line pipeline extends the installed recipe, overrides params through with:, and runs offline end to end', (context) => {
  // The user's own test data, beside their pipeline (the first 6 of the package's 12 test pairs): a
  // path set under with: is relative to the file that sets it, not to the recipe.
  mkdirSync(path.join(project, 'data'));
  const packageTest = readFileSync(path.join(installed, 'data', 'test.jsonl'), 'utf8')
    .trimEnd()
    .split('\n');
  writeFileSync(path.join(project, 'data', 'test.jsonl'), packageTest.slice(0, 6).join('\n') + '\n');
  const pipeline = `name: acme-nli
extends: "${recipe}"
with:
  max_steps: 4
  test_file: ./data/test.jsonl
`;
  assert.ok(pipeline.trimEnd().split('\n').length <= 10);
  writeFileSync(path.join(project, 'pipeline.yaml'), pipeline);
  validates('pipeline.yaml');
  if (!existsSync(testPython)) {
    context.skip(`no Python at ${testPython}; run \`npm run setup:python\``);
    return;
  }

  const run = distill(project, 'run', 'pipeline.yaml', '--json');
  assert.equal(run.status, 0, run.stderr.slice(-4000));
  const result = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as {
    runDirectory: string;
    stages: { stage: string; status: string; directory: string }[];
  };
  assert.equal(result.runDirectory, path.join(project, 'runs', 'acme-nli'), 'the run is the project’s, not the package’s');
  assert.deepEqual(
    result.stages.map((stage) => [stage.stage, stage.status]),
    ['dataset', 'teacher', 'trainer', 'export', 'evaluate'].map((stage) => [stage, 'computed']),
  );
  const directoryOf = (name: string) => result.stages.find((stage) => stage.stage === name)!.directory;
  const request = JSON.parse(readFileSync(path.join(directoryOf('trainer'), 'request.json'), 'utf8')) as {
    request: { alpha: unknown; options: { max_steps: unknown } };
  };
  assert.deepEqual(request.request.alpha, { start: 0.5, end: 0.5 }, "the recipe's default α reached the trainer");
  assert.equal(request.request.options.max_steps, 4, 'max_steps set through with: reached the trainer');
  const summary = JSON.parse(readFileSync(path.join(result.runDirectory, 'summary.json'), 'utf8')) as {
    student: { steps: number; exportedTestExamples: number };
  };
  assert.equal(summary.student.steps, 4);
  assert.equal(summary.student.exportedTestExamples, 6, 'the exported student was evaluated on the user’s 6 test pairs');
  const predictions = readFileSync(path.join(directoryOf('evaluate'), 'predictions.jsonl'), 'utf8')
    .trimEnd()
    .split('\n');
  assert.equal(predictions.length, 6);
  for (const file of ['distill.lock.json', 'config.resolved.yaml', 'report.md', 'stages.json'])
    assert.ok(existsSync(path.join(result.runDirectory, file)), `the run wrote ${file}`);
  const resolved = readFileSync(path.join(result.runDirectory, 'config.resolved.yaml'), 'utf8');
  assert.doesNotMatch(resolved, /\$\{params\./, 'no param reference is left in the resolved configuration');
});

test('upgrading to a version with a changed α: the run stops, validate --locked fails, diff shows that one change with its sources, and the accepted run retrains only what depends on it', (context) => {
  if (!existsSync(path.join(project, 'runs', 'acme-nli', 'distill.lock.json'))) {
    context.skip('the end-to-end run above did not finish; nothing to upgrade from');
    return;
  }
  const recipeFile = path.join(packageFolder, 'recipes', 'nli-zero-shot.yaml');
  const before = readFileSync(recipeFile, 'utf8');
  const alphaDefault = /(description: "Weight of the label loss; the rationale loss gets 1 - alpha."\n {4}default: )0\.5\n/;
  assert.match(before, alphaDefault);
  writeFileSync(recipeFile, before.replace(alphaDefault, '$10.3\n'));
  const manifestFile = path.join(packageFolder, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { version: string };
  writeFileSync(manifestFile, JSON.stringify({ ...manifest, version: '0.2.0' }, null, 2) + '\n');
  const packed = JSON.parse(npm(packageFolder, 'pack', '--json')) as { filename: string }[];
  npm(project, 'install', '--offline', '--no-audit', '--no-fund', path.join(packageFolder, packed[0]!.filename));

  const refused = distill(project, 'run', 'pipeline.yaml');
  assert.equal(refused.status, 1, refused.stdout + refused.stderr);
  assert.match(refused.stderr, /@acme\/distill-recipes recipes\/nli-zero-shot\.yaml 0\.1\.0 → 0\.2\.0/);
  assert.match(refused.stderr, /--accept-recipe-changes/);

  const locked = distill(project, 'validate', '--locked', 'pipeline.yaml');
  assert.equal(locked.status, 1, locked.stdout + locked.stderr);
  assert.match(locked.stderr, /0\.1\.0 → 0\.2\.0/);

  const changed = distill(project, 'diff', 'pipeline.yaml');
  assert.equal(changed.status, 1, changed.stderr);
  const changeLines = changed.stdout.split('\n').filter((line) => /^[~+-] /.test(line));
  assert.deepEqual(changeLines, ['~ /loss/options/alpha: 0.5 → 0.3'], changed.stdout);
  // Both sides point at the recipe's `default:` of α: the snapshot of 0.1.0 and the installed 0.2.0.
  const defaultLine =
    before
      .split('\n')
      .findIndex((line, index, lines) => line === '    default: 0.5' && lines[index - 1]!.includes('Weight of the label loss')) + 1;
  assert.match(changed.stdout, new RegExp(`was @acme/distill-recipes@0\\.1\\.0/recipes/nli-zero-shot\\.yaml:${defaultLine}:\\d+`));
  assert.match(changed.stdout, new RegExp(`now node_modules/@acme/distill-recipes/recipes/nli-zero-shot\\.yaml:${defaultLine}:\\d+`));

  const accepted = distill(project, 'run', 'pipeline.yaml', '--accept-recipe-changes', '--json');
  assert.equal(accepted.status, 0, accepted.stderr.slice(-4000));
  const result = JSON.parse(accepted.stdout.trim().split('\n').at(-1)!) as { stages: { stage: string; status: string }[] };
  assert.deepEqual(
    result.stages.map((stage) => [stage.stage, stage.status]),
    [
      ['dataset', 'reused'],
      ['teacher', 'reused'],
      ['trainer', 'computed'],
      ['export', 'computed'],
      ['evaluate', 'computed'],
    ],
  );
  const lockfile = JSON.parse(readFileSync(path.join(project, 'runs', 'acme-nli', 'distill.lock.json'), 'utf8')) as {
    recipes: { package: string; version: string }[];
  };
  assert.deepEqual(
    lockfile.recipes.map((entry) => [entry.package, entry.version]),
    [['@acme/distill-recipes', '0.2.0']],
  );
  assert.equal(distill(project, 'validate', '--locked', 'pipeline.yaml').status, 0, 'the lockfile pins the accepted version');
  assert.equal(distill(project, 'diff', 'pipeline.yaml').status, 0, 'nothing differs from the run that accepted it');
});

test('the package’s own smoke test (npm test) passes against this distill', (context) => {
  if (!existsSync(testPython)) {
    context.skip(`no Python at ${testPython}; run \`npm run setup:python\``);
    return;
  }
  // npm test puts node_modules/.bin first on PATH; here distill is not installed in the package, so
  // the smoke test finds this checkout's on PATH, as it finds a global one.
  const environment = environmentWithDistillOnPath(context);
  // Set by this test runner for its own children; the smoke test's runner is a user's, reporting as text.
  delete environment.NODE_TEST_CONTEXT;
  const smoke = spawnSync(process.execPath, ['--test', 'test/recipe.test.mjs'], {
    cwd: packageFolder,
    encoding: 'utf8',
    timeout: 300_000,
    env: environment,
  });
  assert.equal(smoke.status, 0, smoke.stdout.slice(-4000) + smoke.stderr.slice(-2000));
  assert.match(smoke.stdout, /^# pass 1$/m);
});
