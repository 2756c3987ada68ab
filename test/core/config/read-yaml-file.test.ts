import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { pipelineLimits, type PipelineLimits } from '../../../core/config/pipeline-limits.js';
import { readYamlFile } from '../../../core/config/read-yaml-file.js';
import type { Problem } from '../../../core/errors/problem.js';
import { repositoryRoot } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** Every YAML file under a folder. */
function yamlFilesUnder(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((name) => name.endsWith('.yaml'))
    .map((name) => path.join(directory, name));
}

/** Where and why reading failed, without the file name. */
function located(problems: readonly Problem[]): { line?: number; column?: number; message: string }[] {
  return problems.map(({ line, column, message }) => ({ line, column, message }));
}

test('every shipped pipeline reads within a hundredth of the size, value, anchor and alias limits and a quarter of the depth', async () => {
  const tight: PipelineLimits = {
    ...pipelineLimits,
    maxBytes: pipelineLimits.maxBytes / 100,
    maxNodes: pipelineLimits.maxNodes / 100,
    maxDepth: pipelineLimits.maxDepth / 4,
    maxAnchors: pipelineLimits.maxAnchors / 100,
    maxAliases: pipelineLimits.maxAliases / 100,
    maxAliasCount: pipelineLimits.maxAliasCount / 100,
  };
  const files = yamlFilesUnder(path.join(repositoryRoot, 'pipelines'));
  assert.ok(files.length >= 12, `only ${files.length} pipelines found`);
  for (const file of files) {
    const read = await readYamlFile(file, tight);
    assert.deepEqual(read.problems, [], `${file} comes near a limit`);
    assert.ok(read.value !== undefined);
  }
});

test('a file over the size limit is refused at 1:1 without being parsed', async (context) => {
  const file = path.join(temporaryDirectory(context), 'large.yaml');
  writeFileSync(file, `name: large\ndescription: ${'x'.repeat(200)}\n`);
  const read = await readYamlFile(file, { ...pipelineLimits, maxBytes: 100 });
  assert.equal(read.value, undefined);
  assert.equal(read.problems.length, 1);
  assert.equal(read.problems[0]!.line, 1);
  assert.equal(read.problems[0]!.column, 1);
  assert.match(read.problems[0]!.message, /large\.yaml holds 0\.0 MiB \(226 bytes\); a pipeline may hold at most 0\.0 MiB \(100 bytes\)$/);
  assert.match(read.problems[0]!.fix ?? '', /keep data in dataset files/);
});

test('values are counted with each alias standing for what its anchor holds, and refused at the alias that crosses the limit', async (context) => {
  const file = path.join(temporaryDirectory(context), 'aliases.yaml');
  // The root mapping, its 2 keys, the anchored list and its 4 items, the list of uses: 9 values.
  // Each *four adds 5 more: 14, 19, 24.
  writeFileSync(file, ['x-four: &four [1, 2, 3, 4]', 'uses:', '  - *four', '  - *four', '  - *four'].join('\n') + '\n');
  const limits = { ...pipelineLimits, maxNodes: 18 };
  assert.deepEqual(located((await readYamlFile(file, limits)).problems), [
    { line: 4, column: 5, message: 'alias "*four" takes the pipeline past 18 keys and values, the most a pipeline may hold' },
  ]);
  const read = await readYamlFile(file, { ...limits, maxNodes: 24 });
  assert.deepEqual(read.problems, []);
  assert.deepEqual(read.value, {
    'x-four': [1, 2, 3, 4],
    uses: [
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ],
  });
  assert.deepEqual(
    read.sourceMap.get('/uses/2/3')?.value,
    { file: read.sourceMap.get('/uses/2/3')!.value.file, line: 1, column: 25 },
    'an aliased value is located where its anchor wrote it',
  );
});

test('nesting is counted through aliases, and an alias inside its own anchor is refused', async (context) => {
  const directory = temporaryDirectory(context);
  const deep = path.join(directory, 'deep.yaml');
  writeFileSync(deep, 'x-three: &three {a: {b: 1}}\nwrapped: {c: {d: *three}}\n');
  assert.deepEqual(located((await readYamlFile(deep, { ...pipelineLimits, maxDepth: 4 })).problems), [
    { line: 2, column: 18, message: 'alias "*three" nests 5 levels deep; a pipeline file may nest at most 4' },
  ]);
  assert.deepEqual((await readYamlFile(deep, { ...pipelineLimits, maxDepth: 5 })).problems, []);
  const loop = path.join(directory, 'loop.yaml');
  writeFileSync(loop, 'x-loop: &loop {again: *loop}\n');
  assert.deepEqual(located((await readYamlFile(loop)).problems), [
    { line: 1, column: 23, message: 'alias "*loop" is inside the value its anchor names, so it would contain itself' },
  ]);
});

test('nesting far past the limit stops the parser early', async (context) => {
  const file = path.join(temporaryDirectory(context), 'brackets.yaml');
  writeFileSync(file, `a: ${'['.repeat(200_000)}\n`);
  const read = await readYamlFile(file);
  assert.deepEqual(located(read.problems), [
    {
      line: 1,
      column: 4 + 2 * pipelineLimits.maxDepth - 1,
      message: `this value nests more than ${2 * pipelineLimits.maxDepth} levels deep; a pipeline file may nest at most ${pipelineLimits.maxDepth}`,
    },
  ]);
});

test('anchors past the limit are refused at the first one too many', async (context) => {
  const file = path.join(temporaryDirectory(context), 'anchors.yaml');
  writeFileSync(file, 'x-a: &a 1\nx-b: &b 2\nx-c: &c 3\n');
  assert.deepEqual(located((await readYamlFile(file, { ...pipelineLimits, maxAnchors: 2 })).problems), [
    { line: 3, column: 9, message: 'more than 2 anchors; a pipeline file may define at most 2' },
  ]);
});

test('duplicate keys are found in every mapping, each with its pointer, among 20,000 keys', async (context) => {
  const file = path.join(temporaryDirectory(context), 'duplicates.yaml');
  const keys = Array.from({ length: 20_000 }, (_, index) => `  k${index}: ${index}`);
  writeFileSync(file, ['outer:', ...keys, '  k7: again', 'list:', '  - {a: 1, "a": 2}', 'outer: twice'].join('\n') + '\n');
  const read = await readYamlFile(file);
  assert.deepEqual(
    read.problems.map(({ line, column, pointer, message }) => ({ line, column, pointer, message })),
    [
      { line: 20_002, column: 3, pointer: '/outer/k7', message: 'duplicate key "k7"' },
      { line: 20_004, column: 12, pointer: '/list/0/a', message: 'duplicate key "a"' },
      { line: 20_005, column: 1, pointer: '/outer', message: 'duplicate key "outer"' },
    ],
  );
});
