import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as core from '../../core/index.js';
import * as library from '../../plugins/index.js';
import { testPath } from '../support/paths.js';
import { stableRegistry } from '../core/config/stable-registry.js';

// The package's entry is core's API with the built-in plugins wired in: everything core exports,
// and the functions that read a pipeline or create a plugin take the built-in registry by default.

const minimal = testPath('core', 'config', 'fixtures', 'valid', 'minimal.yaml');

test('the library entry exports everything the plugin-free core exports', () => {
  const missing = Object.keys(core).filter((name) => !(name in library));
  assert.deepEqual(missing, []);
  // The bound functions replace core's of the same name.
  assert.notEqual(library.loadPipeline, core.loadPipeline);
  assert.notEqual(library.runPipeline, core.runPipeline);
});

test("the library's loadPipeline reads against the built-in registry, or the one it is given", async () => {
  const builtin = await library.loadPipeline(minimal, { environment: {} });
  assert.ok(builtin.registry.has('trainer', 'torch') && builtin.registry.has('teacher', 'fixture-teacher'));
  assert.deepEqual(builtin.config.loss, { use: 'constant', options: { alpha: 0.5 } });
  const given = await library.loadPipeline(minimal, { environment: {}, registry: stableRegistry() });
  assert.equal(given.registry.has('trainer', 'torch'), false);
});
