import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { loadStudent, runPipeline } from '../../../plugins/index.js';
import { tinyCausalLmMissing } from '../inference/tiny-causal-lm-fixture.js';
import { readTestSplit } from '../../../core/runner/stages/test-split.js';
import { environmentWithDistillOnPath, printedModel } from '../../support/distill-on-path.js';
import { runDistill } from '../../support/run-distill.js';
import { repositoryRoot, testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const pipeline = testPath('core', 'runner', 'fixtures', 'tiny-quickstart.yaml');

/** The two lines a run ends with: the model folder, and the command that tries it. */
function printedLines(stdout: string): { folder: string; command: string } {
  const printed = printedModel(stdout);
  assert.ok(printed, `the run printed its model and a predict command:\n${stdout}`);
  return printed;
}

/** The export stage's own model folder, and the dataset stage's folder, as `stages.json` names them. */
function stageFolders(runDirectory: string): { exported: string; dataset: string } {
  const stages = JSON.parse(readFileSync(path.join(runDirectory, 'stages.json'), 'utf8')) as Record<string, { directory: string }>;
  return {
    exported: path.join(runDirectory, stages.export!.directory, 'model'),
    dataset: path.join(runDirectory, stages.dataset!.directory),
  };
}

/** Whether two paths are the same file on disk (a hard link shares the inode). */
function sameFile(left: string, right: string): boolean {
  const [a, b] = [statSync(left), statSync(right)];
  return a.ino === b.ino && a.dev === b.dev;
}

/** The ```js blocks of a README, with the placeholder folder paths replaced by the real one. */
function javascriptBlocks(readme: string, folder: string): string[] {
  return [...readme.matchAll(/```js\n([\s\S]*?)\n```/g)].map((match) =>
    match[1]!.replaceAll('/absolute/path/to/this/folder', folder).replaceAll('path/to/this/folder', folder),
  );
}

/** Runs each ```js block of a model folder's README in a project that has distill and transformers.js installed; returns what each printed. */
function runSnippets(context: TestContext, readme: string, folder: string): string[] {
  const consumer = temporaryDirectory(context);
  mkdirSync(path.join(consumer, 'node_modules'));
  symlinkSync(repositoryRoot, path.join(consumer, 'node_modules', 'distill'));
  symlinkSync(path.join(repositoryRoot, 'node_modules', '@huggingface'), path.join(consumer, 'node_modules', '@huggingface'));
  const blocks = javascriptBlocks(readme, folder);
  assert.equal(blocks.length, 2, 'a library snippet and a transformers.js one');
  return blocks.map((block, index) => {
    const file = path.join(consumer, `snippet-${index}.mjs`);
    writeFileSync(file, block);
    const ran = spawnSync(process.execPath, [file], { cwd: consumer, encoding: 'utf8', timeout: 120_000 });
    assert.equal(ran.status, 0, `${block}\n${ran.stderr}`);
    return ran.stdout.trim();
  });
}

test(
  'a run ends with its model folder and a predict command that runs as printed; the folder follows a rerun with other options',
  { timeout: 600_000 },
  async (context) => {
    const runs = temporaryDirectory(context);
    const runDirectory = path.join(runs, 'tiny-quickstart');
    const first = await runDistill(['run', pipeline], { TINY_RUNS: runs }, 300_000);
    assert.equal(first.code, 0, first.stderr);
    const printed = printedLines(first.stdout);
    assert.equal(printed.folder, path.join(runDirectory, 'model'), 'runs/<name>/model');
    const before = stageFolders(runDirectory);
    for (const file of ['onnx/encoder_model.onnx', 'onnx/decoder_model_merged.onnx', 'tokenizer.json', 'README.md']) {
      assert.ok(sameFile(path.join(printed.folder, file), path.join(before.exported, file)), `model/${file} is the export's own file`);
    }

    // The printed line, run by a shell where `distill` is this checkout's: no path typed by hand.
    const example = readTestSplit(path.join(before.dataset, 'test.jsonl'))[0]!;
    const predicted = spawnSync('bash', ['-c', printed.command], {
      env: environmentWithDistillOnPath(context),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(predicted.status, 0, predicted.stderr);
    const student = await loadStudent(printed.folder);
    const [expected] = await student.predict([example.input]);
    await student.close();
    assert.equal(predicted.stdout.trim(), expected!.label.trim(), 'the command predicts for the first test input, as the library does');

    // The README: the input format, the labels, and usage snippets that run as written.
    const readme = readFileSync(path.join(printed.folder, 'README.md'), 'utf8');
    assert.ok(readme.includes('{premise} </s> {hypothesis}'), 'the input template with the dataset fields');
    assert.ok(readme.includes('`predict: `'), 'the task prefix');
    assert.ok(readme.includes(example.input), 'a real test input');
    for (const label of ['entailment', 'neutral', 'contradiction']) assert.ok(readme.includes(`- \`${label}\``), `label ${label}`);
    assert.match(readme, /exact-match \d+\.\d% on 60 examples/, 'the test accuracy');
    assert.deepEqual(
      runSnippets(context, readme, printed.folder),
      [expected!.label.trim(), expected!.label.trim()],
      'the snippets print the label the CLI printed',
    );

    // Other options, same run folder: a new export, and the model folder goes with it.
    const variant = path.join(runs, 'alpha.yaml');
    writeFileSync(variant, `extends: ${JSON.stringify(pipeline)}\nloss:\n  use: constant\n  options: { alpha: 0.8 }\n`);
    const second = await runDistill(['run', variant], { TINY_RUNS: runs }, 300_000);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(printedLines(second.stdout).folder, printed.folder, 'the same stable folder');
    const after = stageFolders(runDirectory);
    assert.notEqual(after.exported, before.exported, 'the rerun exported anew');
    const graph = 'onnx/decoder_model_merged.onnx';
    assert.ok(sameFile(path.join(printed.folder, graph), path.join(after.exported, graph)), 'model/ is the new export');
    assert.ok(!sameFile(path.join(printed.folder, graph), path.join(before.exported, graph)), 'and no longer the old one');
  },
);

test(
  "a decoder student's README gives its prompt, its labels and snippets that run as written",
  { skip: tinyCausalLmMissing(), timeout: 600_000 },
  async (context) => {
    const runs = temporaryDirectory(context);
    const result = await runPipeline(testPath('core', 'runner', 'fixtures', 'tiny-causal-lm-quickstart.yaml'), {
      environment: { ...process.env, TINY_RUNS: runs },
    });
    const model = result.model!;
    assert.equal(model.directory, path.join(result.runDirectory, 'model'));
    const readme = readFileSync(path.join(model.directory, 'README.md'), 'utf8');
    assert.ok(readme.includes('The student is a decoder (causal LM'), 'says what the student is');
    assert.ok(readme.includes(String.raw`"\nAnswer:"`), 'the prompt around the input');
    const student = await loadStudent(model.directory);
    const [expected] = await student.predict([model.example!.input]);
    await student.close();
    const [library, transformers] = runSnippets(context, readme, model.directory);
    assert.equal(library, expected!.label.trim(), 'the library snippet prints the label');
    // transformers.js generates the whole answer (a two-tasks student answers the label alone).
    assert.equal(transformers, expected!.label.trim(), 'the transformers.js snippet prints the same answer');
  },
);
