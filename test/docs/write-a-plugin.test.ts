import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import type { SampleItem, Sampler } from '../../core/plugins/kinds/sampler.js';
import { loadExternalPlugins } from '../../core/plugins/load-external-plugins.js';
import { markdownFiles, writeMarkdownFiles } from '../support/markdown-files.js';
import { repositoryRoot } from '../support/paths.js';
import { runDistill } from '../support/run-distill.js';
import { temporaryDirectory } from '../support/temporary-directory.js';
import { testDependencies } from '../plugins/datasets/test-dependencies.js';

// docs/write-a-plugin.md's plugins and pipeline, written out beside docs/your-own-data.md's pipeline
// (which the guide's pipeline extends), as a reader would copy them.

function writeGuides(directory: string): void {
  writeMarkdownFiles('your-own-data.md', directory);
  writeMarkdownFiles('write-a-plugin.md', directory);
}

const item = (id: string, rationale: string | null): SampleItem => ({
  id,
  input: `Review: ${id}`,
  goldLabel: 'positive',
  teacherLabel: 'positive',
  label: 'positive',
  rationale,
});

test('the guide’s JavaScript and TypeScript plugins load and drop exactly the long rationales', async (context) => {
  const directory = temporaryDirectory(context);
  writeGuides(directory);
  const items = [item('short', 'Praises the speed.'), item('long', 'word '.repeat(30).trim()), item('none', null)];
  const results = [];
  for (const specifier of ['./keep-short.js', './keep-short.ts']) {
    const [descriptor, ...rest] = await loadExternalPlugins([{ specifier, baseDirectory: directory }]);
    assert.equal(rest.length, 0);
    assert.equal(`${descriptor!.kind}/${descriptor!.id}`, 'sampler/keep-short');
    const sampler = (await descriptor!.create({ max_words: 25 }, testDependencies(directory))) as Sampler;
    results.push(sampler.apply(items, { seed: 42 }));
  }
  assert.deepEqual(results[0], [items[0], { ...items[1], rationale: null }, items[2]]);
  assert.deepEqual(results[1], results[0], 'the two versions behave the same');
});

test('distill validate loads the guide’s TypeScript plugin and checks its options with its schema', async (context) => {
  const directory = temporaryDirectory(context);
  writeGuides(directory);
  const pipeline = path.join(directory, 'pipeline-with-plugin.yaml');
  const valid = await runDistill(['validate', pipeline]);
  assert.equal(valid.code, 0, valid.stderr);
  assert.match(valid.stdout, /✓ .*pipeline-with-plugin\.yaml/);

  writeFileSync(pipeline, readFileSync(pipeline, 'utf8').replace('max_words: 25', 'max_words: 0'));
  const invalid = await runDistill(['validate', pipeline]);
  assert.equal(invalid.code, 1);
  const shown = markdownFiles('write-a-plugin.md').find((file) => file.name === 'validate-error.txt')!.text;
  assert.ok(
    invalid.stderr.includes(`${directory}${path.sep}${shown.trimEnd()}`),
    `the guide shows:\n${shown}\ndistill printed:\n${invalid.stderr}`,
  );
});

test('the guide’s TypeScript plugin type-checks against distill’s own types', (context) => {
  const directory = temporaryDirectory(context);
  writeGuides(directory);
  writeFileSync(path.join(directory, 'package.json'), '{ "type": "module" }\n');
  const program = ts.createProgram([path.join(directory, 'keep-short.ts')], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    skipLibCheck: true,
    types: [],
    // `distill` as an installed package would resolve: to the library entry's declarations.
    paths: { distill: [path.join(repositoryRoot, 'dist', 'plugins', 'index.d.ts')] },
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
  assert.deepEqual(diagnostics, []);
});
