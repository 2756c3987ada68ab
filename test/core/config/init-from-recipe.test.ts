import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { initFromRecipe } from '../../../core/config/init-from-recipe.js';
import { UserError } from '../../../core/errors/user-error.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { acmeRecipes, installFixturePackage } from './recipe-package-fixture.js';

test('init --from writes a pipeline extending the recipe, required params to fill in, optional ones commented out', async (context) => {
  const project = temporaryDirectory(context);
  installFixturePackage(project, acmeRecipes);
  const output = path.join(project, 'pipelines', 'nli.yaml');

  const result = await initFromRecipe({ from: '@acme/recipes/nli', output, registry: builtinRegistry() });
  assert.deepEqual([result.packageName, result.packageVersion, result.recipe], ['@acme/recipes', '1.2.0', 'recipes/nli.yaml']);
  assert.equal(result.output, output);
  assert.ok(existsSync(path.join(project, 'pipelines', 'distill.schema.json')), 'the schema is written beside it');
  const text = readFileSync(output, 'utf8');
  assert.equal(
    text,
    `# yaml-language-server: $schema=./distill.schema.json
# Extends the recipe recipes/nli.yaml of @acme/recipes@1.2.0: Natural language inference from a zero-shot teacher. Second sentence.
# \`distill recipes\` lists its params; \`distill diff\` shows what an upgrade of the package changes.
extends: "@acme/recipes/nli"
with:
  data: "./data" # string, required: The data folder.
  # alpha: 0.5 # number, optional
  # max_steps: 100 # integer, optional: Training steps.
`,
  );
  assert.deepEqual(parse(text), { extends: '@acme/recipes/nli', with: { data: './data' } }, 'it is the YAML it reads as');
});

test('init --from: a recipe with only optional params gets a commented with: block (a bare one would be null)', async (context) => {
  const project = temporaryDirectory(context);
  const folder = installFixturePackage(project, acmeRecipes);
  const output = path.join(project, 'base-pipeline.yaml');
  await initFromRecipe({ from: '@acme/recipes/recipes/base.yaml', output, registry: builtinRegistry() });
  const text = readFileSync(output, 'utf8');
  assert.match(text, /^# with:\n {2}# max_steps: 100 # integer, optional: Training steps\.\n$/m);
  assert.deepEqual(parse(text), { extends: '@acme/recipes/recipes/base.yaml' });
  assert.ok(existsSync(path.join(folder, 'recipes', 'base.yaml')));
});

test('init --from refuses to overwrite, and names what is wrong with an unknown package or recipe', async (context) => {
  const project = temporaryDirectory(context);
  installFixturePackage(project, acmeRecipes);
  const output = path.join(project, 'pipeline.yaml');
  writeFileSync(output, 'name: mine\n');
  const options = { from: '@acme/recipes/nli', output, registry: builtinRegistry() };
  await assert.rejects(initFromRecipe(options), /the file already exists; not overwriting it/);
  assert.equal(readFileSync(output, 'utf8'), 'name: mine\n');
  await initFromRecipe({ ...options, force: true });
  assert.match(readFileSync(output, 'utf8'), /^extends: "@acme\/recipes\/nli"$/m);

  const problemOf = async (from: string) => {
    const error = await initFromRecipe({ ...options, from, force: true }).catch((caught: unknown) => caught);
    assert.ok(error instanceof UserError, String(error));
    return error.problems[0]!;
  };
  const missingPackage = await problemOf('@acme/other/nli');
  assert.match(missingPackage.message, /^--from names the package @acme\/other, which is not installed where .*pipeline\.yaml can find it/);
  assert.match(missingPackage.fix ?? '', /npm install @acme\/other/);
  const missingRecipe = await problemOf('@acme/recipes/nl');
  assert.equal(missingRecipe.message, 'the package @acme/recipes@1.2.0 has no recipe "nl"');
  assert.equal(missingRecipe.fix, 'name one of its recipes: nli (recipes/nli.yaml), broken (recipes/gone.yaml)');
  const notASpecifier = await problemOf('./recipes/nli.yaml');
  assert.match(notASpecifier.message, /does not name a recipe of a package/);
});
