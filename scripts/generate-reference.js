// Writes docs/pipeline-reference.md and docs/plugins/*.md from the JSON Schemas and plugin
// descriptors of the built checkout (`npm run --silent build` first), and removes plugin pages of
// plugins that no longer exist. test/core/config/pipeline-reference.test.ts fails when they differ.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { referencePages } from '../dist/core/config/pipeline-reference.js';
import { builtinRegistry } from '../dist/plugins/composition-root.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pages = referencePages(builtinRegistry());
mkdirSync(path.join(root, 'docs', 'plugins'), { recursive: true });
for (const name of readdirSync(path.join(root, 'docs', 'plugins'))) {
  if (!pages.has(`docs/plugins/${name}`)) rmSync(path.join(root, 'docs', 'plugins', name));
}
for (const [page, text] of pages) writeFileSync(path.join(root, page), text);
console.log(`wrote ${pages.size} pages`);
