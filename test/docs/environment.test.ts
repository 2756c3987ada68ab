import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../support/paths.js';

// docs/environment.md promises every environment variable distill reads, in one table. This test
// finds the variables the code reads and checks each has a row, so a new one cannot go undocumented.

/** Ways the sources name an environment variable, each with the name as group 1. */
const variablePatterns: readonly RegExp[] = [
  /\b(?:environment|process\.env|env)\.([A-Z][A-Z0-9_]*)\b/g,
  /\b(?:environment|process\.env|env)\[['"]([A-Z][A-Z0-9_]*)['"]\]/g,
  /os\.environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]*)["']/g,
  /[vV]ariable\w*\s*[:=]\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
  // `$NAME` as prose writes it; not `${…}`, which is a template literal's or a pipeline's interpolation.
  /\$([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/g,
  /\b(DISTILL_[A-Z0-9_]+)\b/g,
  /^export ([A-Z][A-Z0-9_]*)=/gm,
];

/** The variable names a source text reads or documents. */
function variablesIn(text: string): Set<string> {
  const names = new Set<string>();
  for (const pattern of variablePatterns) for (const match of text.matchAll(pattern)) names.add(match[1]!);
  return names;
}

function* sourceFiles(directory: string): Generator<string> {
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== '__pycache__') yield* sourceFiles(full);
    } else if (/\.(ts|py)$/.test(entry.name) || entry.name === 'setup') yield full;
  }
}

/** The names in the first column of the table, `A`, `B` written as one row. */
function documentedVariables(): Set<string> {
  const text = readFileSync(path.join(repositoryRoot, 'docs', 'environment.md'), 'utf8');
  const rows = text.split('\n').filter((line) => line.startsWith('| `'));
  return new Set(rows.flatMap((row) => [...row.split('|')[1]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!)));
}

test('every environment variable the code reads has a row in docs/environment.md', () => {
  const documented = documentedVariables();
  const missing = new Map<string, string>();
  for (const folder of ['core', 'plugins', 'bin']) {
    for (const file of sourceFiles(path.join(repositoryRoot, folder))) {
      for (const name of variablesIn(readFileSync(file, 'utf8'))) {
        if (!documented.has(name) && !missing.has(name)) missing.set(name, path.relative(repositoryRoot, file));
      }
    }
  }
  assert.deepEqual(Object.fromEntries(missing), {}, 'add a row to docs/environment.md for each (name: first file that reads it)');
});

test('the scan finds variables however the code names them', () => {
  const source = [
    'const key = environment.OPENAI_API_KEY ?? process.env["OTHER_KEY"];',
    "export const serveTokenVariable = 'SERVE_TOKEN';",
    'description: "default: $CACHE_ROOT"',
    'endpoint = os.environ.get("HF_ENDPOINT")',
    'export ONNXRUNTIME_NODE_INSTALL=skip',
    "const codes = ['SQLITE_FULL', 'ERR_TIMEOUT'];",
    'const line = `HTTP/1.1 ${STATUS_CODES[status]}`;',
  ].join('\n');
  assert.deepEqual([...variablesIn(source)].sort(), [
    'CACHE_ROOT',
    'HF_ENDPOINT',
    'ONNXRUNTIME_NODE_INSTALL',
    'OPENAI_API_KEY',
    'OTHER_KEY',
    'SERVE_TOKEN',
  ]);
});
