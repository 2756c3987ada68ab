import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { formatUserError, isUserError, loadPipeline, runPipeline, type PipelineSource } from '../../../plugins/index.js';
import { testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

// `runPipeline` takes what a library user has at hand: the object the exported `loadPipeline`
// returned (the issue found Node's bare ERR_INVALID_ARG_TYPE for it), a path, or a file URL. Each runs
// the same pipeline into the same stages; anything else is a UserError saying what was given.

const pipeline = testPath('core', 'runner', 'fixtures', 'tiny-quickstart.yaml');

test('a loaded pipeline runs, and its path and file URL then reuse the same stages', async (context) => {
  const environment = { ...process.env, TINY_RUNS: temporaryDirectory(context) };
  const loaded = await loadPipeline(pipeline, { environment });
  const fromLoaded = await runPipeline(loaded, { until: 'teacher', environment });
  assert.deepEqual(
    fromLoaded.stages.map((stage) => `${stage.stage}:${stage.status}`),
    ['dataset:computed', 'teacher:computed'],
  );
  for (const source of [pipeline, pathToFileURL(pipeline)]) {
    const again = await runPipeline(source, { until: 'teacher', environment });
    assert.equal(again.runDirectory, fromLoaded.runDirectory);
    assert.deepEqual(
      again.stages.map((stage) => `${stage.stage}:${stage.status}`),
      ['dataset:reused', 'teacher:reused'],
      `given ${String(source)}`,
    );
  }
});

test('anything else is a UserError naming what was given and what to pass', async () => {
  const wrong: [unknown, string][] = [
    [42, 'a number'],
    [null, 'null'],
    [undefined, 'nothing (undefined)'],
    [['pipelines/quickstart.yaml'], 'an array'],
    [{ file: 'pipelines/quickstart.yaml' }, 'an object with the keys file'],
    [new URL('https://example.com/pipeline.yaml'), 'the URL https://example.com/pipeline.yaml'],
  ];
  for (const [value, described] of wrong) {
    await assert.rejects(runPipeline(value as PipelineSource), (error: unknown) => {
      assert.ok(isUserError(error), `${described}: ${String(error)}`);
      assert.match(error.message, new RegExp(`loadPipeline returned, and was given ${described.replace(/[.()]/g, '\\$&')}$`));
      assert.match(formatUserError(error), /fix: pass a path .*a file URL, or `await loadPipeline\(path\)`/);
      return true;
    });
  }
});
