import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repositoryRoot, testPath } from '../support/paths.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// Importing a library must not change the process's globals: the issue found `Reflect.metadata`
// installed by `import … from 'distill'`. tsyringe needs that polyfill, so the DI container is loaded
// by the first run, not by the import. A fresh process, since this test's own process has run
// pipelines in other tests.

const entries = ['plugins', 'core'].map((directory) => pathToFileURL(path.join(repositoryRoot, 'dist', directory, 'index.js')).href);
const pipeline = testPath('core', 'runner', 'fixtures', 'tiny-quickstart.yaml');

test("importing distill or distill/core leaves Reflect alone; the first run's container brings the polyfill", (context) => {
  const script = [
    "const kinds = () => ['metadata', 'getMetadata', 'defineMetadata'].map((name) => typeof Reflect[name]);",
    'const before = kinds();',
    `const library = await import(${JSON.stringify(entries[0])});`,
    `await import(${JSON.stringify(entries[1])});`,
    'const afterImport = kinds();',
    `const run = await library.runPipeline(${JSON.stringify(pipeline)}, { until: 'dataset' });`,
    'console.log(JSON.stringify({ before, afterImport, stages: run.stages.map((stage) => stage.stage), afterRun: kinds() }));',
  ].join('\n');
  const finished = spawnSync(process.execPath, ['--input-type=module', '--eval', script], {
    encoding: 'utf8',
    env: { ...process.env, TINY_RUNS: temporaryDirectory(context) },
    timeout: 120_000,
  });
  assert.equal(finished.status, 0, finished.stderr);
  const undefinedThree = ['undefined', 'undefined', 'undefined'];
  assert.deepEqual(JSON.parse(finished.stdout.trim().split('\n').at(-1)!), {
    before: undefinedThree,
    afterImport: undefinedThree,
    stages: ['dataset'],
    // What the check would see if an import installed it: the same polyfill, which a run does need.
    afterRun: ['function', 'function', 'function'],
  });
});
