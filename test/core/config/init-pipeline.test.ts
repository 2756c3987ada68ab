import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { initPipeline } from '../../../core/config/init-pipeline.js';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { UserError } from '../../../core/errors/user-error.js';
import { jsonAt } from '../../support/json-at.js';
import { testPath } from '../../support/paths.js';
import { builtinRegistry } from '../../../plugins/composition-root.js';
import { stableRegistry } from './stable-registry.js';

const recipesDirectory = testPath('core', 'config', 'fixtures', 'recipes');
const fixtures = testPath('core', 'config', 'fixtures');
const scratch = mkdtempSync(path.join(tmpdir(), 'distill-init-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('init copies a recipe elsewhere, re-pointing its extends, plugins and path options', async () => {
  const output = path.join(scratch, 'nested', 'quick.yaml');
  const result = await initPipeline({ registry: builtinRegistry(), recipesDirectory, output });
  assert.deepEqual(result, { recipe: 'fixture-quick', output, schemaFile: path.join(scratch, 'nested', 'distill.schema.json') });
  const text = readFileSync(output, 'utf8');
  const lines = text.split('\n');
  assert.equal(lines[0], '# yaml-language-server: $schema=./distill.schema.json');
  assert.equal(lines[1], '# A quick recipe over the fixture plugins (distill init copies this comment too).', 'comments are kept');
  assert.ok(!text.includes('$schema=../'), 'the recipe’s own schema line is replaced');
  assert.match(text, /model: small-model # the cheapest/);
  const extendsLine = /^extends: (.+)$/m.exec(text)?.[1];
  assert.equal(path.resolve(path.dirname(output), extendsLine!), path.join(recipesDirectory, 'shared', 'base.yaml'));
  const directory = /directory: \$\{FIXTURE_DATA_DIRECTORY:-(.+)\}$/m.exec(text)?.[1];
  assert.equal(path.resolve(path.dirname(output), directory!), path.join(fixtures, 'data'), 'the default path was re-pointed');

  const loaded = await loadPipeline(output, { environment: {}, registry: stableRegistry() });
  assert.equal(loaded.config.name, 'fixture-quick');
  assert.equal(path.resolve(loaded.baseDirectory, String(loaded.config.dataset.options.directory)), path.join(fixtures, 'data'));
  assert.ok(
    jsonAt(JSON.parse(readFileSync(result.schemaFile, 'utf8')), 'properties', 'teacher'),
    'the combined schema is written beside it',
  );
});

test('init refuses to overwrite, and names the recipes when one is unknown', async () => {
  const output = path.join(scratch, 'taken.yaml');
  await initPipeline({ registry: builtinRegistry(), recipesDirectory, recipe: 'fixture-thorough', output });
  await assert.rejects(
    initPipeline({ registry: builtinRegistry(), recipesDirectory, recipe: 'fixture-thorough', output }),
    /the file already exists; not overwriting it/,
  );
  await initPipeline({ registry: builtinRegistry(), recipesDirectory, recipe: 'fixture-quick', output, force: true });
  assert.match(readFileSync(output, 'utf8'), /^name: fixture-quick$/m);
  await assert.rejects(
    initPipeline({ registry: builtinRegistry(), recipesDirectory, recipe: 'fixture-thorogh', output }),
    (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.deepEqual(error.problems, [
        {
          message: 'unknown recipe "fixture-thorogh"',
          fix: 'did you mean "fixture-thorough"? available recipes: fixture-quick, fixture-thorough',
        },
      ]);
      return true;
    },
  );
});
