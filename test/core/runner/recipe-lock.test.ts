import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { resolveExtends } from '../../../core/config/resolve-extends.js';
import { displayPath } from '../../../core/config/source-map.js';
import { isUserError, type UserError } from '../../../core/errors/user-error.js';
import {
  describeRecipeChange,
  readLockedRecipes,
  readRecipeFiles,
  recipeChanges,
  snapshotPath,
  writeRecipeSnapshots,
  type LockedRecipe,
} from '../../../core/runner/recipe-lock.js';
import { installRecipePackage } from '../../support/recipe-package-fixture.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** A project: `app.yaml` extends `@acme/recipes/nli`, which extends `./base.yaml` of its package, which extends the project's `shared.yaml`. */
function projectWithPackage(directory: string, nliText: string | Buffer): string {
  installRecipePackage({
    project: directory,
    name: '@acme/recipes',
    version: '2.1.0',
    recipes: { nli: 'recipes/nli.yaml' },
    files: { 'recipes/base.yaml': `extends: ${JSON.stringify(path.join(directory, 'shared.yaml'))}\nbase_value: 1\n` },
  });
  writeFileSync(path.join(directory, 'node_modules', '@acme', 'recipes', 'recipes', 'nli.yaml'), nliText);
  writeFileSync(path.join(directory, 'shared.yaml'), 'shared_value: 1\n');
  const pipeline = path.join(directory, 'app.yaml');
  writeFileSync(pipeline, 'extends: "@acme/recipes/nli"\nown_value: 1\n');
  return pipeline;
}

function entry(fields: Partial<LockedRecipe> = {}): LockedRecipe {
  const base = { package: '@acme/recipes', version: '1.0.0', recipe: 'recipes/nli.yaml', sha256: 'a'.repeat(64), ...fields };
  return { ...base, snapshot: snapshotPath(base.package, base.version, base.recipe)! };
}

async function userErrorOf(promise: Promise<unknown>): Promise<UserError> {
  try {
    await promise;
  } catch (error) {
    if (isUserError(error)) return error;
    throw error;
  }
  assert.fail('expected a UserError');
}

test('a package recipe and the file it extends inside its package are pinned, nearest first, by the sha256 of their bytes; a project file they extend is not', async (context) => {
  const directory = temporaryDirectory(context);
  // A byte that is not UTF-8 (Latin-1 é in a comment): the hash is of the bytes, not of decoded text.
  const nliBytes = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\nextends: ./base.yaml\nrecipe_value: 1\n')]);
  const resolved = await resolveExtends(projectWithPackage(directory, nliBytes), {});
  assert.deepEqual(resolved.problems, []);
  assert.deepEqual(resolved.value, { shared_value: 1, base_value: 1, recipe_value: 1, own_value: 1 });
  const root = path.join(directory, 'node_modules', '@acme', 'recipes');
  assert.deepEqual(
    resolved.recipeSources.map((source) => [source.recipe, source.packageName, source.packageVersion, source.packageRoot, source.file]),
    [
      ['recipes/nli.yaml', '@acme/recipes', '2.1.0', root, path.join(root, 'recipes', 'nli.yaml')],
      ['recipes/base.yaml', '@acme/recipes', '2.1.0', root, path.join(root, 'recipes', 'base.yaml')],
    ],
  );

  const files = await readRecipeFiles(resolved.recipeSources);
  const baseBytes = readFileSync(path.join(root, 'recipes', 'base.yaml'));
  const hash = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  assert.deepEqual(
    files.map((file) => file.entry),
    [
      {
        package: '@acme/recipes',
        version: '2.1.0',
        recipe: 'recipes/nli.yaml',
        sha256: hash(nliBytes),
        snapshot: 'recipes/@acme/recipes@2.1.0/recipes/nli.yaml',
      },
      {
        package: '@acme/recipes',
        version: '2.1.0',
        recipe: 'recipes/base.yaml',
        sha256: hash(baseBytes),
        snapshot: 'recipes/@acme/recipes@2.1.0/recipes/base.yaml',
      },
    ],
  );
  assert.notEqual(files[0]!.entry.sha256, hash(Buffer.from(nliBytes.toString('utf8'))), 'decoded text would hash otherwise');

  const runDirectory = path.join(directory, 'runs', 'app');
  writeRecipeSnapshots(runDirectory, files);
  assert.deepEqual(readFileSync(path.join(runDirectory, files[0]!.entry.snapshot)), nliBytes, 'the snapshot is the same bytes');
  assert.deepEqual(readFileSync(path.join(runDirectory, files[1]!.entry.snapshot)), baseBytes);
});

test('a package whose version could name a folder outside the run folder is refused before anything is written', async (context) => {
  const directory = temporaryDirectory(context);
  const pipeline = projectWithPackage(directory, 'extends: ./base.yaml\n');
  const manifest = path.join(directory, 'node_modules', '@acme', 'recipes', 'package.json');
  const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
  writeFileSync(manifest, JSON.stringify({ ...parsed, version: '1.0.0/../../../../outside' }));
  const resolved = await resolveExtends(pipeline, {});
  assert.deepEqual(resolved.problems, []);
  const error = await userErrorOf(readRecipeFiles(resolved.recipeSources));
  assert.equal(error.problems[0]!.file, displayPath(manifest));
  assert.match(error.problems[0]!.message, /version "1\.0\.0\/\.\.\/\.\.\/\.\.\/\.\.\/outside" cannot name the folder/);
  assert.equal(snapshotPath('..', '1.0.0', 'a.yaml'), null);
  assert.equal(snapshotPath('@acme/recipes', '1.0.0', 'recipes/../../a.yaml'), null);
  assert.equal(
    snapshotPath('@acme/recipes', '1.0.0-beta.1+build', 'recipes/a.yaml'),
    'recipes/@acme/recipes@1.0.0-beta.1+build/recipes/a.yaml',
  );
});

test('changes pair entries by package and file: a new version, new bytes under the same version, a file added or no longer inherited', () => {
  const locked = [entry(), entry({ recipe: 'recipes/base.yaml' }), entry({ recipe: 'recipes/old.yaml' })];
  assert.deepEqual(recipeChanges(locked, locked), []);
  const current = [
    entry({ version: '1.1.0', sha256: 'b'.repeat(64) }),
    entry({ recipe: 'recipes/base.yaml', sha256: 'c'.repeat(64) }),
    entry({ recipe: 'recipes/new.yaml', version: '1.1.0' }),
  ];
  assert.deepEqual(recipeChanges(locked, current).map(describeRecipeChange), [
    '@acme/recipes recipes/nli.yaml 1.0.0 → 1.1.0',
    '@acme/recipes recipes/base.yaml 1.0.0: its content changed under the same version (sha256 aaaaaaaaaaaa… → cccccccccccc…)',
    '@acme/recipes recipes/new.yaml 1.1.0: newly inherited (the lockfile does not pin it)',
    '@acme/recipes recipes/old.yaml 1.0.0: no longer inherited',
  ]);
  assert.deepEqual(recipeChanges([entry()], [entry({ version: '1.0.1' })]).map(describeRecipeChange), [
    '@acme/recipes recipes/nli.yaml 1.0.0 → 1.0.1 (same content)',
  ]);
});

test('a run folder’s lockfile is read as bounded, checked JSON: missing, from before recipe packages, broken, hostile or a link', async (context) => {
  const runDirectory = temporaryDirectory(context);
  const lockfile = path.join(runDirectory, 'distill.lock.json');
  assert.equal(await readLockedRecipes(runDirectory), null, 'no lockfile yet');

  writeFileSync(lockfile, JSON.stringify({ pipeline: 'app.yaml', stages: {} }));
  assert.deepEqual(await readLockedRecipes(runDirectory), [], 'a lockfile written before recipe packages pinned none');
  writeFileSync(lockfile, JSON.stringify({ recipes: [entry()] }));
  assert.deepEqual(await readLockedRecipes(runDirectory), [entry()]);

  writeFileSync(lockfile, '{"recipes": [');
  assert.match((await userErrorOf(readLockedRecipes(runDirectory))).message, /distill\.lock\.json is not JSON/);

  const hostile = { ...entry(), snapshot: '../../../home/user/.bashrc' };
  writeFileSync(lockfile, JSON.stringify({ recipes: [hostile, { ...entry(), sha256: 'not-a-hash', version: 7 }, 'text'] }));
  const problems = (await userErrorOf(readLockedRecipes(runDirectory))).problems;
  assert.deepEqual(
    problems.map((problem) => [problem.pointer, problem.message]),
    [
      ['/recipes/0/snapshot', '"snapshot" must be "recipes/@acme/recipes@1.0.0/recipes/nli.yaml"'],
      ['/recipes/1/version', '"version" must be a string'],
      ['/recipes/1/sha256', '"sha256" must be 64 lower-case hex digits'],
      ['/recipes/2', 'a recipe entry must be an object'],
    ],
  );
  assert.ok(problems.every((problem) => problem.file === displayPath(lockfile) && problem.fix?.includes('delete it')));

  truncateSync(lockfile, 17 * 1024 * 1024);
  assert.match((await userErrorOf(readLockedRecipes(runDirectory))).message, /is larger than 16777216 bytes/);

  const elsewhere = path.join(temporaryDirectory(context), 'lock.json');
  writeFileSync(elsewhere, JSON.stringify({ recipes: [] }));
  const linked = path.join(runDirectory, 'linked');
  mkdirSync(linked);
  symlinkSync(elsewhere, path.join(linked, 'distill.lock.json'));
  assert.match((await userErrorOf(readLockedRecipes(linked))).message, /is a symbolic link/);
});
