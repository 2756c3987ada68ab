import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { hasNamedDatasets } from '../../core/plugins/kinds/dataset.js';
import { builtinPlugins } from '../../plugins/builtin-plugins.js';
import { repositoryRoot } from '../support/paths.js';

/**
 * Words that belong to one dataset or its file layout: the Distilling Step-by-Step data (its short
 * name, its datasets, the `llm/<split>_CoT_<n>.json` shards), plus every dataset a built-in dataset
 * plugin serves by name, so a new named dataset is covered without touching this test.
 */
const domainPatterns: readonly RegExp[] = [
  /dsbs/i,
  /anli/i,
  /cqa/i,
  /esnli/i,
  /svamp/i,
  /_CoT_/i,
  /['"`/]llm['"`/]/i,
  ...builtinPlugins
    .filter(hasNamedDatasets)
    .flatMap((descriptor) => Object.keys(descriptor.namedDatasets).map((name) => new RegExp(name, 'i'))),
];

/** Every file below a folder. */
function filesUnder(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(path.join(folder, entry.name)) : [path.join(folder, entry.name)],
  );
}

/** `file:line: text` for each line of the text that names a dataset or its layout. */
function domainMentions(text: string, file: string): string[] {
  return text
    .split('\n')
    .map((line, index) => ({ line, number: index + 1 }))
    .filter(({ line }) => domainPatterns.some((pattern) => pattern.test(line)))
    .map(({ line, number }) => `${file}:${number}: ${line.trim()}`);
}

test('the scan finds a dataset name or a layout string wherever it is written', () => {
  assert.equal(domainMentions('const file = `${root}/llm/${split}_CoT_0.json`;', 'x.ts').length, 1);
  assert.equal(domainMentions("if (name === 'svamp') return 'numeric-equality';", 'x.ts').length, 1);
  assert.equal(domainMentions('/** Reads the ANLI1 gold file. */', 'x.ts').length, 1);
  assert.deepEqual(domainMentions('/** Reads a JSON Lines file of {input, label}. */\nconst metric = set.metric;', 'x.ts'), []);
});

test('no file under core/ names a dataset or its file layout: that knowledge lives in the dataset plugins', () => {
  const coreFolder = path.join(repositoryRoot, 'core');
  const mentions = filesUnder(coreFolder).flatMap((file) =>
    domainMentions(readFileSync(file, 'utf8'), path.relative(repositoryRoot, file)),
  );
  assert.deepEqual(mentions, [], `move these into the plugin that owns the data:\n${mentions.join('\n')}`);
});
