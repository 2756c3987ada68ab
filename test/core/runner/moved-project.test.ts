import assert from 'node:assert/strict';
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadStudent, runPipeline } from '../../../plugins/index.js';
import { repositoryRoot, testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/**
 * A project of its own: the tiny pipeline, the recipe it extends with the recipes that one extends,
 * and the data, with the runs beside them (`output.directory: runs`).
 */
function writeProject(directory: string): string {
  const pipelines = path.join(repositoryRoot, 'pipelines');
  cpSync(path.join(pipelines, 'esnli-from-scratch.yaml'), path.join(directory, 'esnli-from-scratch.yaml'));
  cpSync(path.join(pipelines, 'shared'), path.join(directory, 'shared'), { recursive: true });
  cpSync(path.join(pipelines, 'data', 'esnli-sample'), path.join(directory, 'data', 'esnli-sample'), { recursive: true });
  const tiny = readFileSync(testPath('core', 'runner', 'fixtures', 'tiny-quickstart.yaml'), 'utf8')
    .replace(/^extends: .*$/m, 'extends: ./esnli-from-scratch.yaml')
    .replace('directory: ${TINY_RUNS}', 'directory: runs');
  const file = path.join(directory, 'tiny.yaml');
  writeFileSync(file, tiny);
  return file;
}

/** Every `stage.json` under a folder. */
function stageRecords(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((file) => path.basename(file) === 'stage.json')
    .map((file) => path.join(directory, file));
}

test(
  'a project copied elsewhere, its old folder deleted, reuses every stage from where it is now',
  { timeout: 600_000 },
  async (context) => {
    const root = temporaryDirectory(context);
    const original = path.join(root, 'original-place');
    const first = await runPipeline(writeProject(original), { environment: process.env });
    assert.deepEqual(
      first.stages.map((stage) => stage.status),
      ['computed', 'computed', 'computed', 'computed', 'computed'],
    );

    const moved = path.join(root, 'moved');
    cpSync(original, moved, { recursive: true });
    rmSync(original, { recursive: true, force: true });
    const second = await runPipeline(path.join(moved, 'tiny.yaml'), { environment: process.env });
    assert.deepEqual(
      second.stages.map((stage) => `${stage.stage}:${stage.status}`),
      ['dataset:reused', 'teacher:reused', 'trainer:reused', 'export:reused', 'evaluate:reused'],
    );
    assert.deepEqual(
      second.outcomes.map((outcome) => outcome.signature),
      first.outcomes.map((outcome) => outcome.signature),
      'the same signatures',
    );
    const runDirectory = path.join(moved, 'runs', 'tiny-quickstart');
    for (const record of stageRecords(runDirectory)) {
      assert.ok(!readFileSync(record, 'utf8').includes(original), `${path.relative(runDirectory, record)} holds no path of the old place`);
    }
    // What the reused stages hand on is read from the new place: the loss curves of the report, the model.
    assert.ok(second.summary.student!.lossCurves.length > 0, "the report's loss curves, from the trainer's metrics file");
    assert.equal(second.outcomes.of('trainer')!.record.output.checkpointDirectory.startsWith(runDirectory), true);
    assert.equal(second.model?.directory, path.join(runDirectory, 'model'));
    const student = await loadStudent(second.model.directory);
    const [prediction] = await student.predict([second.model.example!.input]);
    await student.close();
    assert.equal(typeof prediction!.label, 'string', 'the model folder at the new place loads and predicts');
  },
);
