import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { scaffoldRecipePackage, scaffoldRecipeName } from '../../../core/config/scaffold-recipe-package.js';
import { UserError } from '../../../core/errors/user-error.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const readJsonLines = (file: string) =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, string>);

test('the scaffold writes a package that declares its recipe, with params, a fixture, a smoke test and a README', async (context) => {
  const folder = path.join(temporaryDirectory(context), 'Acme Recipes');
  const result = await scaffoldRecipePackage({ folder });
  assert.equal(result.name, 'acme-recipes', 'the name comes from the folder, as npm accepts it');
  const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(manifest.version, '0.1.0');
  assert.deepEqual(manifest.files, ['recipes/', 'data/', 'README.md']);
  assert.deepEqual(manifest.scripts, { test: 'node --test test/recipe.test.mjs' });
  assert.deepEqual(Object.keys((manifest.distill as { recipes: object }).recipes), [scaffoldRecipeName]);

  const recipe = parse(readFileSync(path.join(folder, 'recipes', `${scaffoldRecipeName}.yaml`), 'utf8')) as Record<string, unknown>;
  assert.deepEqual(Object.keys(recipe.params as object), ['train_file', 'test_file', 'teacher_answers', 'alpha', 'max_steps']);
  assert.deepEqual((recipe.params as Record<string, object>).alpha, {
    type: 'number',
    minimum: 0,
    maximum: 1,
    description: 'Weight of the label loss; the rationale loss gets 1 - alpha.',
    default: 0.5,
  });
  assert.deepEqual(recipe.loss, { use: 'constant', options: { alpha: '${params.alpha}' } });
  assert.equal((recipe.teacher as { use: string }).use, 'recorded', 'offline: the teacher answers from the fixture');

  // Every training and test pair has its recorded answer, under the example id the dataset gives it.
  const train = readJsonLines(path.join(folder, 'data', 'train.jsonl'));
  const test = readJsonLines(path.join(folder, 'data', 'test.jsonl'));
  const answers = readJsonLines(path.join(folder, 'data', 'teacher.jsonl'));
  assert.deepEqual([train.length, test.length], [48, 12]);
  assert.deepEqual(
    answers.map((answer) => answer.id),
    [...train.map((pair) => `train/${pair.id}`), ...test.map((pair) => `test/${pair.id}`)],
  );
  assert.deepEqual(new Set(train.map((pair) => pair.label)), new Set(['entailment', 'neutral', 'contradiction']));
  assert.match(readFileSync(path.join(folder, 'README.md'), 'utf8'), /^extends: "acme-recipes\/nli-zero-shot"$/m);
  assert.match(readFileSync(path.join(folder, 'test', 'recipe.test.mjs'), 'utf8'), /spawnSync\('distill'/);
});

test('the scaffold refuses a folder that is not empty (unless forced) and a name npm refuses', async (context) => {
  const folder = temporaryDirectory(context);
  writeFileSync(path.join(folder, 'notes.txt'), 'mine\n');
  await assert.rejects(scaffoldRecipePackage({ folder, name: 'acme-recipes' }), /the folder is not empty/);
  const forced = await scaffoldRecipePackage({ folder, name: '@acme/distill-recipes', force: true });
  assert.equal(forced.name, '@acme/distill-recipes');
  assert.equal(readFileSync(path.join(folder, 'notes.txt'), 'utf8'), 'mine\n', 'files of its own are left alone');
  await assert.rejects(scaffoldRecipePackage({ folder: path.join(folder, 'new'), name: 'Acme Recipes' }), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.equal(error.problems[0]?.message, '"Acme Recipes" is not an npm package name');
    return true;
  });
});
