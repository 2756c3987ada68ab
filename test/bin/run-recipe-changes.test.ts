import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tinyStudentMissing } from '../core/inference/tiny-student-fixture.js';
import { startProviderServer } from '../support/provider-server.js';
import { installRecipePackage } from '../support/recipe-package-fixture.js';
import { runDistill, type DistillRun } from '../support/run-distill.js';
import { tinyTrainingYaml, writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// A project whose pipeline extends a recipe of an installed package (`@acme/recipes/nli`: the
// student, the trainer and the loss; the recipe extends a second file of its package by a relative
// path), run for real with the CLI: a teacher behind a loopback server, a tiny T5 trained. Then the
// package is upgraded with a changed alpha: the next run refuses to reuse the run folder's stages,
// `validate --locked` fails, and `--accept-recipe-changes` retrains without asking the teacher again.

const stackTraceLine = /^\s+at .+:\d+:\d+\)?$/m;

/** The package's two recipe files at a given alpha. */
function recipeFiles(alpha: number): Record<string, string> {
  return {
    'recipes/nli.yaml': `# the NLI recipe: a tiny student trained on the teacher's answers\nextends: ./training.yaml\nloss:\n  use: constant\n  options: { alpha: ${alpha} }\n`,
    'recipes/training.yaml': tinyTrainingYaml(4).replace('trainer:\n', 'trainer:\n  use: torch\n'),
  };
}

interface Lockfile {
  readonly recipes: readonly { package: string; version: string; recipe: string; sha256: string; snapshot: string }[];
}

function readLockfile(runDirectory: string): Lockfile {
  return JSON.parse(readFileSync(path.join(runDirectory, 'distill.lock.json'), 'utf8')) as Lockfile;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** `stage:status` of each stage in the run folder's `stages.json`. */
function stageStatuses(runDirectory: string): string[] {
  const stages = JSON.parse(readFileSync(path.join(runDirectory, 'stages.json'), 'utf8')) as Record<string, { status: string }>;
  return Object.entries(stages).map(([stage, { status }]) => `${stage}:${status}`);
}

function assertRefused(result: DistillRun, what: string): void {
  assert.equal(result.code, 1, `${what}: exit code\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, stackTraceLine, `${what}: no stack trace`);
}

test(
  'an upgraded recipe package stops the next run before any stage, fails validate --locked, and --accept-recipe-changes retrains only what depends on the change',
  { skip: tinyStudentMissing(), timeout: 600_000 },
  async (context) => {
    const server = await startProviderServer('openai', (request) => ({
      kind: 'answer',
      text: `Answer: yes, because ${request.prompt} says so`,
    }));
    context.after(() => server.close());
    const project = temporaryDirectory(context);
    // The project's own part: its data, teacher, prompt and parser; the student and trainer come from the recipe.
    const teachText = readFileSync(writeTeachPipeline({ directory: project, baseUrl: server.baseUrl, count: 40 }), 'utf8');
    const ownPart = teachText.replace('student:\n  size: tiny\ntrainer:\n  use: torch\n', '');
    assert.notEqual(ownPart, teachText, 'the fixture pipeline names the student and trainer this test leaves to the recipe');
    const pipeline = path.join(project, 'app.yaml');
    writeFileSync(pipeline, `extends: "@acme/recipes/nli"\n${ownPart}`);
    const installed = (version: string, alpha: number) =>
      installRecipePackage({ project, name: '@acme/recipes', version, recipes: { nli: 'recipes/nli.yaml' }, files: recipeFiles(alpha) });
    installed('1.0.0', 0.5);
    const runDirectory = path.join(project, 'runs', 'teach-fixture');

    const noLockfile = await runDistill(['validate', pipeline, '--locked']);
    assertRefused(noLockfile, 'validate --locked before any run');
    assert.match(noLockfile.stderr, /no lockfile to check the recipes against/);
    assert.match(noLockfile.stderr, /drop --locked/);

    const first = await runDistill(['run', pipeline], {}, 300_000);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(stageStatuses(runDirectory), ['dataset:computed', 'teacher:computed', 'trainer:computed']);
    const v1 = recipeFiles(0.5);
    const locked = readLockfile(runDirectory);
    assert.deepEqual(locked.recipes, [
      {
        package: '@acme/recipes',
        version: '1.0.0',
        recipe: 'recipes/nli.yaml',
        sha256: sha256(v1['recipes/nli.yaml']!),
        snapshot: 'recipes/@acme/recipes@1.0.0/recipes/nli.yaml',
      },
      {
        package: '@acme/recipes',
        version: '1.0.0',
        recipe: 'recipes/training.yaml',
        sha256: sha256(v1['recipes/training.yaml']!),
        snapshot: 'recipes/@acme/recipes@1.0.0/recipes/training.yaml',
      },
    ]);
    for (const entry of locked.recipes) {
      assert.equal(
        readFileSync(path.join(runDirectory, entry.snapshot), 'utf8'),
        v1[entry.recipe],
        `the snapshot of ${entry.recipe} is its bytes`,
      );
    }
    const lockedValid = await runDistill(['validate', pipeline, '--locked']);
    assert.equal(lockedValid.code, 0, lockedValid.stderr);
    const teacherRequests = server.requests.length;

    // The upgrade: a new version whose recipe trains with another alpha.
    installed('1.1.0', 0.3);
    const eventsBefore = readFileSync(path.join(runDirectory, 'events.jsonl'), 'utf8');
    const stagesBefore = readFileSync(path.join(runDirectory, 'stages.json'), 'utf8');
    for (const command of ['run', 'teach', 'train']) {
      const refused = await runDistill([command, pipeline]);
      assertRefused(refused, `${command} after the upgrade`);
      assert.match(
        refused.stderr,
        /@acme\/recipes recipes\/nli\.yaml 1\.0\.0 → 1\.1\.0\n/,
        `${command} names the package and both versions`,
      );
      assert.match(refused.stderr, /@acme\/recipes recipes\/training\.yaml 1\.0\.0 → 1\.1\.0 \(same content\)/);
      assert.match(refused.stderr, /fix: review it with `distill diff .*app\.yaml`, then rerun with --accept-recipe-changes/);
    }
    assert.equal(readFileSync(path.join(runDirectory, 'events.jsonl'), 'utf8'), eventsBefore, 'no stage started: not one event');
    assert.equal(readFileSync(path.join(runDirectory, 'stages.json'), 'utf8'), stagesBefore);
    assert.equal(server.requests.length, teacherRequests);
    assert.equal(existsSync(path.join(runDirectory, 'recipes', '@acme', 'recipes@1.1.0')), false, 'nor was a snapshot written');

    const dryRun = await runDistill(['run', pipeline, '--dry-run']);
    assertRefused(dryRun, 'run --dry-run after the upgrade');
    assert.match(dryRun.stderr, /a real run would stop before it starts:[^]*nli\.yaml 1\.0\.0 → 1\.1\.0/);

    const lockedInvalid = await runDistill(['validate', pipeline, '--locked']);
    assertRefused(lockedInvalid, 'validate --locked after the upgrade');
    assert.match(
      lockedInvalid.stderr,
      /the resolved recipes differ from the lockfile: @acme\/recipes recipes\/nli\.yaml 1\.0\.0 → 1\.1\.0/,
    );
    assert.match(lockedInvalid.stderr, /npm install @acme\/recipes@1\.0\.0/);
    assert.match(lockedInvalid.stderr, /2 problems/);
    const plainValidate = await runDistill(['validate', pipeline]);
    assert.equal(plainValidate.code, 0, 'without --locked the upgraded pipeline is valid');

    const accepted = await runDistill(['run', pipeline, '--accept-recipe-changes'], {}, 300_000);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.deepEqual(stageStatuses(runDirectory), ['dataset:reused', 'teacher:reused', 'trainer:computed']);
    assert.equal(server.requests.length, teacherRequests, 'the teacher was not asked again');
    const relocked = readLockfile(runDirectory);
    const v2 = recipeFiles(0.3);
    assert.deepEqual(
      relocked.recipes.map((entry) => [entry.version, entry.recipe, entry.sha256]),
      [
        ['1.1.0', 'recipes/nli.yaml', sha256(v2['recipes/nli.yaml']!)],
        ['1.1.0', 'recipes/training.yaml', sha256(v2['recipes/training.yaml']!)],
      ],
    );
    assert.ok(
      existsSync(path.join(runDirectory, 'recipes', '@acme', 'recipes@1.0.0', 'recipes', 'nli.yaml')),
      'the old snapshot stays for diff',
    );
    assert.match(readFileSync(path.join(runDirectory, relocked.recipes[0]!.snapshot), 'utf8'), /alpha: 0\.3/);

    const again = await runDistill(['validate', pipeline, '--locked']);
    assert.equal(again.code, 0, again.stderr);
  },
);
