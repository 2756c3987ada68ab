import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { pipelineLimits } from '../../core/config/pipeline-limits.js';
import { runDistill, type DistillRun } from '../support/run-distill.js';
import { testPath } from '../support/paths.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// Hostile inputs from a fault campaign, each run through the real `distill validate` (bin/run.js
// over dist/). The targets are under 5 s and 300 MB; the assertions allow 30 s, since the
// machine running the tests may be busy, and the old code took a minute or more and gigabytes.
const generousSeconds = 30;
const memoryCapMegabytes = 300;
const stackTraceLine = /^\s+at .+:\d+:\d+\)?$/m;
const fixtures = testPath('core', 'config', 'fixtures');

/** A `distill validate` run with its wall time and the child's peak resident memory. */
interface MeasuredRun extends DistillRun {
  readonly seconds: number;
  readonly peakMegabytes: number;
}

/**
 * Runs `distill validate` on `files`, with a heap cap (a regression fails fast instead of taking
 * the test machine's memory) and a preload that writes the child's peak resident memory on exit.
 */
async function validate(context: TestContext, files: readonly string[], timeoutMilliseconds = 60_000): Promise<MeasuredRun> {
  const directory = temporaryDirectory(context, 'distill-peak-');
  const peakFile = path.join(directory, 'peak-kilobytes');
  const preload = path.join(directory, 'record-peak.cjs');
  writeFileSync(
    preload,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(peakFile)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  const started = Date.now();
  const run = await runDistill(
    ['validate', ...files],
    { NODE_OPTIONS: `--max-old-space-size=${memoryCapMegabytes} --require ${preload}` },
    timeoutMilliseconds,
  );
  const seconds = (Date.now() - started) / 1000;
  // A child killed at the timeout leaves no record: NaN fails the memory check.
  const peakMegabytes = existsSync(peakFile) ? Number(readFileSync(peakFile, 'utf8')) / 1024 : Number.NaN;
  context.diagnostic(
    `validate ${files.map((file) => path.basename(file)).join(' ')}: ${seconds.toFixed(2)} s, peak ${peakMegabytes.toFixed(0)} MB`,
  );
  return { ...run, seconds, peakMegabytes };
}

/** Asserts a run refused its input quickly, in bounded memory, with a located message and no stack. */
function assertBoundedRefusal(run: MeasuredRun, expected: RegExp): void {
  assert.equal(run.code, 1, `exit status ${run.code}, signal ${run.signal}; stderr: ${run.stderr.slice(0, 2000)}`);
  assert.match(run.stderr, expected);
  assert.doesNotMatch(run.stderr + run.stdout, stackTraceLine);
  assert.ok(run.seconds < generousSeconds, `took ${run.seconds} s`);
  assert.ok(run.peakMegabytes < memoryCapMegabytes, `peak memory ${run.peakMegabytes} MB`);
}

/** A regular expression matching `text` literally. */
function literal(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Writes a pipeline that is valid (fixture plugins, absolute paths) apart from `extraPlugin`, listed second. */
function writePipeline(file: string, extraPlugin?: string): void {
  const lines = [
    'name: hostile',
    'plugins:',
    `  - ${path.join(fixtures, 'plugins', 'fixture-plugins.js')}`,
    ...(extraPlugin ? [`  - ${extraPlugin}`] : []),
    `dataset: { use: fixture-dataset, options: { directory: ${path.join(fixtures, 'data')} } }`,
    'teacher: { use: fixture-teacher, options: { model: tiny } }',
    'prompt: { use: fixture-prompt, options: { template: "{question}" } }',
    'parser: { use: fixture-parser }',
    'student: { size: tiny }',
    'trainer: { use: fixture-trainer }',
  ];
  writeFileSync(file, lines.join('\n') + '\n');
}

test('an alias bomb (a 20,000-item anchor used 999 times, 46 KB) is refused at the alias that crosses the limit', async (context) => {
  const file = path.join(temporaryDirectory(context), 'alias-bomb.yaml');
  const lines = [
    'name: bomb',
    `x-a: &a [${Array.from({ length: 20_000 }, () => '1').join(',')}]`,
    'x-b:',
    ...Array.from({ length: 999 }, () => '  - *a'),
  ];
  writeFileSync(file, lines.join('\n') + '\n');
  assert.ok(statSync(file).size < 48 * 1024, "the file is the campaign's 46 KB");
  const run = await validate(context, [file]);
  // Root, name and its value, x-a, the list and its 20,000 items, x-b and its list: 20,007 values;
  // each alias adds 20,001, and the first one to take the count past the limit is refused.
  const crossing = Math.floor((pipelineLimits.maxNodes - 20_007) / 20_001) + 1;
  assertBoundedRefusal(
    run,
    new RegExp(
      `${literal(file)}:${3 + crossing}:5\\n {2}alias "\\*a" takes the pipeline past ${pipelineLimits.maxNodes} keys and values, the most a pipeline may hold\\n {2}fix: `,
    ),
  );
});

test('a 50 MB file is refused at 1:1 before it is read', async (context) => {
  const file = path.join(temporaryDirectory(context), 'huge.yaml');
  const descriptor = openSync(file, 'w');
  const block = Array.from({ length: 10_000 }, (_, index) => `key${index}: ${index}\n`).join('');
  for (let written = 0; written < 50 * 1024 * 1024;) written += writeSync(descriptor, block);
  closeSync(descriptor);
  const run = await validate(context, [file]);
  assertBoundedRefusal(
    run,
    new RegExp(
      `${literal(file)}:1:1\\n {2}${literal(file)} holds 50\\.\\d MiB \\(\\d+ bytes\\); a pipeline may hold at most 1 MiB \\(1048576 bytes\\)\\n`,
    ),
  );
});

test('a mapping with too many keys, and a megabyte of nesting, are each refused where they cross the limit', async (context) => {
  const directory = temporaryDirectory(context);
  const wide = path.join(directory, 'wide.yaml');
  const keys = pipelineLimits.maxNodes / 2 + 100;
  writeFileSync(wide, Array.from({ length: keys }, (_, index) => `k${String(index).padStart(6, '0')}: 1`).join('\n') + '\n');
  assert.ok(statSync(wide).size < pipelineLimits.maxBytes, 'under the size limit: the key count is what is refused');
  const deep = path.join(directory, 'deep.yaml');
  writeFileSync(deep, `a: ${'['.repeat(pipelineLimits.maxBytes - 10)}\n`);
  const run = await validate(context, [wide, deep]);
  // The root and one key and one value per line: the value on line maxNodes / 2 is one too many.
  assertBoundedRefusal(
    run,
    new RegExp(
      `${literal(wide)}:${pipelineLimits.maxNodes / 2}:10\\n {2}this value takes the pipeline past ${pipelineLimits.maxNodes} keys and values`,
    ),
  );
  assert.match(
    run.stderr,
    new RegExp(`${literal(deep)}:1:67\\n {2}this value nests more than 64 levels deep; a pipeline file may nest at most 32\\n`),
  );
});

test('extends naming a folder, "", /dev/zero or a FIFO is refused at the extends value without reading it', async (context) => {
  const directory = temporaryDirectory(context);
  mkdirSync(path.join(directory, 'folder'));
  const fifo = path.join(directory, 'parent.fifo');
  const made = spawnSync('mkfifo', [fifo]);
  // Null when mkfifo could not be started at all, whatever Node's types say.
  const stderr = made.stderr as Buffer | null;
  assert.equal(made.status, 0, `mkfifo failed: ${stderr?.toString() ?? 'it could not be started'}`);
  const cases = [
    { name: 'folder.yaml', extendsValue: './folder', reason: `cannot extend ${path.join(directory, 'folder')}: it is a folder` },
    { name: 'empty.yaml', extendsValue: '""', reason: 'extends names no file: the value is empty' },
    { name: 'device.yaml', extendsValue: '/dev/zero', reason: 'cannot extend /dev/zero: it is a device' },
    { name: 'fifo.yaml', extendsValue: './parent.fifo', reason: `cannot extend ${fifo}: it is a named pipe (FIFO)` },
  ];
  for (const { name, extendsValue } of cases)
    writeFileSync(path.join(directory, name), `name: child\n# the parent\nextends: ${extendsValue}\n`);
  // Opening the FIFO for reading would block until a writer came: the run would hit this timeout.
  const run = await validate(
    context,
    cases.map(({ name }) => path.join(directory, name)),
    20_000,
  );
  for (const { name, reason } of cases) {
    assertBoundedRefusal(
      run,
      new RegExp(
        `✗ ${literal(path.join(directory, name))}\\n${literal(path.join(directory, name))}:3:10 /extends\\n {2}${literal(reason)}\\n {2}fix: `,
      ),
    );
  }
});

/** Runs `distill validate` on a pipeline whose second plugin is `name`, written with `source`. */
async function validateWithPlugin(context: TestContext, name: string, source: string): Promise<{ run: MeasuredRun; pipeline: string }> {
  const directory = temporaryDirectory(context);
  writeFileSync(path.join(directory, name), source);
  const pipeline = path.join(directory, 'pipeline.yaml');
  writePipeline(pipeline, `./${name}`);
  return { run: await validate(context, [pipeline]), pipeline };
}

test('a plugin that calls process.exit(0) on import makes validate fail with the plugin named at its entry', async (context) => {
  const { run, pipeline } = await validateWithPlugin(context, 'exits.js', 'process.exit(0);\n');
  assert.equal(run.stdout, '');
  assert.equal(
    run.stderr,
    `✗ ${pipeline}\n${pipeline}:4:5 /plugins/1\n  plugin "./exits.js" called process.exit(0) while being imported\n  fix: a plugin must not end the process; throw an error instead, and distill reports it\n`,
  );
  assertBoundedRefusal(run, /exits\.js/);
});

test('a plugin whose top-level await never settles makes validate fail after the import deadline', async (context) => {
  const { run, pipeline } = await validateWithPlugin(context, 'waits.js', 'await new Promise(() => {});\nexport default {};\n');
  assert.equal(
    run.stderr,
    `✗ ${pipeline}\n${pipeline}:4:5 /plugins/1\n  plugin "./waits.js" did not finish loading within 10 s\n` +
      '  fix: a plugin module must not wait at its top level (such as a top-level await that never settles); do the work in create()\n',
  );
  assertBoundedRefusal(run, /waits\.js/);
  assert.ok(run.seconds >= 10, `gave up after ${run.seconds} s, before the 10 s deadline`);
});

test('a plugin whose import rejects makes validate fail with the reason', async (context) => {
  const { run, pipeline } = await validateWithPlugin(
    context,
    'rejects.js',
    "await Promise.reject(new Error('cannot reach the model registry'));\n",
  );
  assert.equal(
    run.stderr,
    `✗ ${pipeline}\n${pipeline}:4:5 /plugins/1\n  plugin "./rejects.js" failed to load: cannot reach the model registry\n`,
  );
  assertBoundedRefusal(run, /rejects\.js/);
});
