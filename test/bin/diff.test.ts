import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { distillBin } from '../support/run-distill.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// A project whose pipeline extends a recipe of an installed package, and a run folder whose lockfile
// and snapshot say it ran with an older version of that package: what `npm install` and `distill run`
// leave, written by hand (the package is data only; nothing of it runs).

const stackTraceLine = /^\s+at .+:\d+:\d+\)?$/m;

/** The recipe package's files: `recipes/nli.yaml` extends `recipes/base.yaml` inside the package. */
function recipeFiles(alpha: number, more = ''): Record<string, string> {
  return {
    'recipes/base.yaml': 'student:\n  max_input_length: 128\nloss:\n  use: constant\n  options:\n    alpha: 0.9\n',
    'recipes/nli.yaml': `extends: ./base.yaml\nprompt:\n  use: template\n  options: { name: nli-zero-shot }\nloss:\n  options:\n    alpha: ${alpha}\n${more}`,
  };
}

/** Writes a file, making its folder. */
function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

/** Installs `@acme/recipes` at `version` into the project's node_modules, as npm would lay it out. */
function install(project: string, version: string, alpha: number, more = ''): void {
  const root = path.join(project, 'node_modules', '@acme', 'recipes');
  rmSync(root, { recursive: true, force: true });
  write(
    path.join(root, 'package.json'),
    JSON.stringify({ name: '@acme/recipes', version, distill: { recipes: { nli: { file: 'recipes/nli.yaml', description: 'NLI' } } } }),
  );
  for (const [name, text] of Object.entries(recipeFiles(alpha, more))) write(path.join(root, name), text);
}

/** A run folder of the pipeline that ran with `@acme/recipes@version`: the lockfile's `recipes` and the snapshots (spec format). */
function recordRun(runDirectory: string, version: string, alpha: number, more = ''): void {
  const recipes = Object.entries(recipeFiles(alpha, more))
    .reverse() // nearest first: nli.yaml, then the base it extends
    .map(([recipe, text]) => {
      const snapshot = `recipes/@acme/recipes@${version}/${recipe}`;
      write(path.join(runDirectory, snapshot), text);
      return { package: '@acme/recipes', version, recipe, sha256: createHash('sha256').update(text).digest('hex'), snapshot };
    });
  write(path.join(runDirectory, 'distill.lock.json'), JSON.stringify({ pipeline: 'pipeline.yaml', stages: {}, recipes }, null, 2));
}

/** The project: the package installed at 1.1.0 with α 0.3, a run recorded with 1.0.0 and α 0.5. */
function project(context: TestContext): { directory: string; runDirectory: string } {
  const directory = temporaryDirectory(context);
  write(path.join(directory, 'pipeline.yaml'), 'extends: "@acme/recipes/nli"\nname: nli-test\n');
  install(directory, '1.1.0', 0.3);
  const runDirectory = path.join(directory, 'runs', 'nli-test');
  recordRun(runDirectory, '1.0.0', 0.5);
  return { directory, runDirectory };
}

/** `distill diff …` run in the project folder (so paths are shown relative to it). */
function diff(directory: string, ...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [distillBin, 'diff', ...args], { cwd: directory, encoding: 'utf8', timeout: 60_000 });
  assert.doesNotMatch(result.stdout + result.stderr, stackTraceLine, 'no stack trace');
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The change lines of the text output (`~`, `+`, `-`). */
function changeLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => /^[~+-] \//.test(line));
}

test('an upgraded recipe package shows its one changed value with both sources, and exit 1', (context) => {
  const { directory } = project(context);
  const result = diff(directory, 'pipeline.yaml');
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(changeLines(result.stdout), ['~ /loss/options/alpha: 0.5 → 0.3']);
  assert.match(result.stdout, /^ {4}was @acme\/recipes@1\.0\.0\/recipes\/nli\.yaml:7:12$/m);
  assert.match(result.stdout, /^ {4}now node_modules\/@acme\/recipes\/recipes\/nli\.yaml:7:12$/m);
  assert.match(
    result.stdout,
    /run of runs\/nli-test\/distill\.lock\.json \(@acme\/recipes@1\.0\.0\) → installed \(@acme\/recipes@1\.1\.0\)/,
  );

  const json = diff(directory, 'pipeline.yaml', '--json');
  assert.equal(json.code, 1);
  assert.deepEqual(JSON.parse(json.stdout), {
    pipeline: 'pipeline.yaml',
    against: { lockfile: 'runs/nli-test/distill.lock.json', recipes: [{ package: '@acme/recipes', version: '1.0.0' }] },
    current: [{ package: '@acme/recipes', version: '1.1.0' }],
    unpinned: [],
    changes: [
      {
        pointer: '/loss/options/alpha',
        kind: 'changed',
        before: 0.5,
        after: 0.3,
        beforeSource: '@acme/recipes@1.0.0/recipes/nli.yaml:7:12',
        afterSource: 'node_modules/@acme/recipes/recipes/nli.yaml:7:12',
      },
    ],
  });
});

test('equal configurations exit 0: the same recipe installed again, or a value the pipeline sets itself', (context) => {
  const { directory } = project(context);
  install(directory, '1.0.0', 0.5);
  const same = diff(directory, 'pipeline.yaml');
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.deepEqual(changeLines(same.stdout), []);
  assert.match(same.stdout, /^no changes$/m);

  // The user's own file wins on both sides, so the package's change does not reach the configuration.
  install(directory, '1.1.0', 0.3);
  write(path.join(directory, 'pipeline.yaml'), 'extends: "@acme/recipes/nli"\nname: nli-test\nloss:\n  options:\n    alpha: 0.4\n');
  const overridden = diff(directory, 'pipeline.yaml');
  assert.equal(overridden.code, 0, overridden.stdout + overridden.stderr);
});

test('--against names a version among the snapshots, a lockfile or a run folder', (context) => {
  const { directory, runDirectory } = project(context);
  for (const against of ['1.0.0', '@acme/recipes@1.0.0', path.join(runDirectory, 'distill.lock.json'), 'runs/nli-test']) {
    const result = diff(directory, 'pipeline.yaml', '--against', against);
    assert.equal(result.code, 1, `${against}: ${result.stderr}`);
    assert.deepEqual(changeLines(result.stdout), ['~ /loss/options/alpha: 0.5 → 0.3'], against);
    assert.match(result.stdout, /was @acme\/recipes@1\.0\.0\/recipes\/nli\.yaml:7:12/, against);
  }
  // A lockfile elsewhere: its snapshots are relative to its own folder.
  const elsewhere = path.join(directory, 'archive', 'old-run');
  recordRun(elsewhere, '0.9.0', 0.7);
  const archived = diff(directory, 'pipeline.yaml', '--against', 'archive/old-run/distill.lock.json');
  assert.equal(archived.code, 1, archived.stderr);
  assert.deepEqual(changeLines(archived.stdout), ['~ /loss/options/alpha: 0.7 → 0.3']);
  assert.match(archived.stdout, /was @acme\/recipes@0\.9\.0\/recipes\/nli\.yaml:7:12/);
});

test('an unknown version, a missing or edited snapshot and a missing lockfile are clear errors (exit 2)', (context) => {
  const { directory, runDirectory } = project(context);
  const unknown = diff(directory, 'pipeline.yaml', '--against', '0.9.0');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /has no snapshot of @acme\/recipes at version 0\.9\.0/);
  assert.match(unknown.stderr, /fix: name one it has: @acme\/recipes@1\.0\.0/);

  const notInherited = diff(directory, 'pipeline.yaml', '--against', '@other/recipes@1.0.0');
  assert.equal(notInherited.code, 2);
  assert.match(notInherited.stderr, /inherits nothing from @other\/recipes/);

  const neither = diff(directory, 'pipeline.yaml', '--against', 'no-such-thing');
  assert.equal(neither.code, 2);
  assert.match(neither.stderr, /is no lockfile, run folder or version/);

  // A recipe the run did not use has no snapshot: the old side cannot be rebuilt.
  write(path.join(directory, 'node_modules/@acme/recipes/recipes/other.yaml'), 'loss:\n  options:\n    alpha: 0.2\n');
  write(path.join(directory, 'other.yaml'), 'extends: "@acme/recipes/recipes/other.yaml"\nname: nli-test\n');
  const unused = diff(directory, 'other.yaml');
  assert.equal(unused.code, 2);
  assert.match(
    unused.stderr,
    /^other\.yaml:1:10 \/extends\n {2}the snapshot of @acme\/recipes@1\.0\.0 \(runs\/nli-test\/recipes\/@acme\/recipes@1\.0\.0\) has no recipe "recipes\/other\.yaml"/m,
  );

  writeFileSync(path.join(runDirectory, 'recipes/@acme/recipes@1.0.0/recipes/nli.yaml'), 'loss:\n  options:\n    alpha: 0.1\n');
  const edited = diff(directory, 'pipeline.yaml');
  assert.equal(edited.code, 2);
  assert.match(
    edited.stderr,
    /runs\/nli-test\/distill\.lock\.json \/recipes\/0\n {2}the snapshot runs\/nli-test\/recipes\/@acme\/recipes@1\.0\.0\/recipes\/nli\.yaml is not the file the run used/,
  );

  rmSync(path.join(runDirectory, 'recipes/@acme/recipes@1.0.0/recipes/base.yaml'));
  const missing = diff(directory, 'pipeline.yaml', '--json');
  assert.equal(missing.code, 2);
  const problems = (JSON.parse(missing.stdout) as { error: { problems: { pointer: string; message: string }[] } }).error.problems;
  assert.deepEqual(
    problems.map((problem) => problem.pointer),
    ['/recipes/0', '/recipes/1'],
  );
  assert.match(problems[1]!.message, /the snapshot of @acme\/recipes@1\.0\.0\/recipes\/base\.yaml is missing/);

  rmSync(runDirectory, { recursive: true });
  const noLockfile = diff(directory, 'pipeline.yaml');
  assert.equal(noLockfile.code, 2);
  assert.match(noLockfile.stderr, /no lockfile at runs\/nli-test\/distill\.lock\.json/);
});

test('a lockfile from before recipe packages pinned none; an entry leaving the run folder is refused at its JSON pointer', (context) => {
  const { directory, runDirectory } = project(context);
  const lockfile = path.join(runDirectory, 'distill.lock.json');
  writeFileSync(lockfile, JSON.stringify({ pipeline: 'pipeline.yaml', stages: {} }));
  const old = diff(directory, 'pipeline.yaml');
  assert.equal(old.code, 0, old.stderr);
  assert.match(old.stdout, /note: @acme\/recipes has no snapshot there; it is read as installed on both sides/);

  const escaping = {
    package: '@acme/recipes',
    version: '1.0.0',
    recipe: 'recipes/nli.yaml',
    sha256: '0'.repeat(64),
    snapshot: '../../../recipes/nli.yaml',
  };
  writeFileSync(lockfile, JSON.stringify({ recipes: [escaping] }));
  const refused = diff(directory, 'pipeline.yaml');
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /\/recipes\/0\/snapshot\n {2}"snapshot" must be "recipes\/@acme\/recipes@1\.0\.0\/recipes\/nli\.yaml"/);
});

test('a key written in a recipe is never printed, in text or --json, even when it changed', (context) => {
  const [oldKey, newKey] = [0, 1].map(() => `sk-canary-${randomBytes(12).toString('hex')}`);
  const { directory, runDirectory } = project(context);
  const teacher = (key: string) => `teacher:\n  use: openai\n  options:\n    model: gpt-4o-mini\n    api_key: ${key}\n`;
  install(directory, '1.1.0', 0.3, teacher(newKey!));
  recordRun(runDirectory, '1.0.0', 0.5, teacher(oldKey!));
  for (const json of [false, true]) {
    const result = diff(directory, 'pipeline.yaml', ...(json ? ['--json'] : []));
    assert.equal(result.code, 1, result.stderr);
    const output = result.stdout + result.stderr;
    assert.ok(!output.includes(oldKey!) && !output.includes(newKey!), 'a key was printed');
    if (!json)
      assert.deepEqual(changeLines(result.stdout), [
        '~ /loss/options/alpha: 0.5 → 0.3',
        '~ /teacher/options/api_key: "[redacted]" → "[redacted]"',
      ]);
  }
});

test('a package the run pinned no snapshot of is read as installed on both sides, and the output says so', (context) => {
  const { directory } = project(context);
  const other = path.join(directory, 'node_modules', 'acme-base');
  write(path.join(other, 'package.json'), JSON.stringify({ name: 'acme-base', version: '2.0.0' }));
  write(path.join(other, 'trainer.yaml'), 'extends: "@acme/recipes/nli"\ntrainer:\n  use: torch\n');
  write(path.join(directory, 'pipeline.yaml'), 'extends: acme-base/trainer.yaml\nname: nli-test\n');
  const result = diff(directory, 'pipeline.yaml');
  assert.equal(result.code, 1, result.stderr);
  assert.deepEqual(changeLines(result.stdout), ['~ /loss/options/alpha: 0.5 → 0.3']);
  assert.match(result.stdout, /^note: acme-base has no snapshot there; it is read as installed on both sides$/m);
  assert.match(result.stdout, /→ installed \(acme-base@2\.0\.0, @acme\/recipes@1\.1\.0\)/);
});
