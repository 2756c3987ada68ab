import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../support/paths.js';

// The library's examples are files that the tests run (consumer-project.test.ts); the pages that show
// them quote them under a marker, `<!-- example: examples/library/predict.mjs -->` followed by a fenced
// block, and each quote must be the file as it is, so a page never shows code that was not run.

const marker = /<!-- example: (\S+) -->\n```[a-z]*\n([\s\S]*?)```/g;

/** README.md and every page under docs/. */
function pages(): string[] {
  const docs = readdirSync(path.join(repositoryRoot, 'docs')).filter((name) => name.endsWith('.md'));
  return ['README.md', ...docs.map((name) => `docs/${name}`)];
}

/** Every example under examples/, relative to the repository. */
function examples(): string[] {
  const directory = path.join(repositoryRoot, 'examples');
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(repositoryRoot, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
}

test('every quote of an example equals the example file, and every example is quoted', () => {
  const quoted = new Set<string>();
  for (const page of pages()) {
    for (const [, file, quote] of readFileSync(path.join(repositoryRoot, page), 'utf8').matchAll(marker)) {
      assert.equal(quote, readFileSync(path.join(repositoryRoot, file!), 'utf8'), `${page} quotes ${file} as it is`);
      quoted.add(file!);
    }
  }
  assert.deepEqual(
    examples().filter((file) => !quoted.has(file)),
    [],
    'examples no page quotes',
  );
});
