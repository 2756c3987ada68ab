import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { availableRecipes, maxScannedPackages, recipeListingText } from '../../../core/config/installed-recipes.js';
import { listRecipes } from '../../../core/config/recipes.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { acmeRecipes, installFixturePackage } from './recipe-package-fixture.js';

test('the listing has the built-in recipes and each installed package’s declared recipes, with their params', async (context) => {
  const project = temporaryDirectory(context);
  const folder = installFixturePackage(project, acmeRecipes);
  installFixturePackage(project, { manifest: { name: 'left-pad', version: '1.3.0' } });
  const nested = path.join(project, 'packages', 'app');
  mkdirSync(nested, { recursive: true });

  const listing = await availableRecipes(nested);
  assert.deepEqual(
    listing.builtIn.map((recipe) => recipe.name),
    listRecipes(),
  );
  const quickstart = listing.builtIn.find((recipe) => recipe.name === 'quickstart');
  assert.match(quickstart?.description ?? '', /^Offline quickstart/);
  assert.equal(listing.packages.length, 1, 'a package that declares no recipes is not listed');
  const acme = listing.packages[0]!;
  assert.deepEqual([acme.name, acme.version, acme.folder], ['@acme/recipes', '1.2.0', folder]);
  const [nli, broken] = acme.recipes;
  assert.equal(nli?.reference, '@acme/recipes/nli');
  assert.equal(nli.description, 'Natural language inference from a zero-shot teacher. Second sentence.');
  assert.deepEqual(nli.params, [
    { name: 'data', required: true, type: 'string', description: 'The data folder.', example: './data' },
    { name: 'alpha', required: false, type: 'number', default: 0.5 },
    { name: 'max_steps', required: false, type: 'integer', description: 'Training steps.', default: 100 },
  ]);
  assert.equal(nli.problem, undefined);
  assert.equal(broken?.problem, 'its file recipes/gone.yaml is missing');

  const text = recipeListingText(listing);
  assert.match(text, /^ {2}@acme\/recipes@1\.2\.0 {2}\(/m);
  assert.match(text, /^ {4}@acme\/recipes\/nli {2}Natural language inference from a zero-shot teacher\.$/m, 'the first sentence');
  assert.match(text, /^ {6}params: data \(required, string\), alpha \(number, default 0\.5\), max_steps \(integer, default 100\)$/m);
  assert.match(text, /^ {6}cannot be read in full: its file recipes\/gone\.yaml is missing$/m);
  assert.doesNotMatch(text, /left-pad/);
});

test('a nearer install of a package shadows a farther one, as Node resolves it; a broken manifest is named', async (context) => {
  const project = temporaryDirectory(context);
  installFixturePackage(project, acmeRecipes);
  const app = path.join(project, 'app');
  installFixturePackage(app, { ...acmeRecipes, manifest: { ...acmeRecipes.manifest, version: '2.0.0' } });
  mkdirSync(path.join(app, 'node_modules', 'broken-json'));
  writeFileSync(path.join(app, 'node_modules', 'broken-json', 'package.json'), '{ "name": ');

  const listing = await availableRecipes(app);
  assert.deepEqual(
    listing.packages.map((entry) => `${entry.name}@${entry.version}`),
    ['@acme/recipes@2.0.0'],
  );
  assert.equal(listing.skipped.length, 1);
  assert.match(listing.skipped[0]!, /broken-json\/package\.json is not JSON/);
});

test(`the scan stops after ${maxScannedPackages} package folders and says so`, async (context) => {
  const project = temporaryDirectory(context);
  for (let index = 0; index < maxScannedPackages; index += 1)
    mkdirSync(path.join(project, 'node_modules', `package-${index}`), { recursive: true });
  // Listed in name order, after the 2,000 others: not reached.
  installFixturePackage(project, { ...acmeRecipes, manifest: { ...acmeRecipes.manifest, name: 'zz-recipes' } });
  const listing = await availableRecipes(project);
  assert.equal(listing.truncated, true);
  assert.deepEqual(listing.packages, []);
  assert.match(recipeListingText(listing), /stopped after 2000 package folders/);
});
