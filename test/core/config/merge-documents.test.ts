import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeDocuments } from '../../../core/config/merge-documents.js';
import type { SourceMap } from '../../../core/config/source-map.js';

/** A source map placing each pointer on its own line of `file`. */
function positions(file: string, pointers: readonly string[]): SourceMap {
  return new Map(pointers.map((pointer, index) => [pointer, { value: { file, line: index + 1, column: 1 } }]));
}

test('positions follow the values: inherited ones name the base, replaced and added ones the override', () => {
  const base = {
    value: { teacher: { options: { model: 'a', headers: { token: 't' } } }, evaluators: [{ use: 'x' }] },
    sourceMap: positions('base.yaml', [
      '',
      '/teacher',
      '/teacher/options',
      '/teacher/options/model',
      '/teacher/options/headers',
      '/teacher/options/headers/token',
      '/evaluators',
      '/evaluators/0',
      '/evaluators/0/use',
    ]),
  };
  const override = {
    value: { teacher: { options: { headers: 'none' } }, evaluators: [{ use: 'y' }], name: 'child' },
    sourceMap: positions('child.yaml', [
      '',
      '/teacher',
      '/teacher/options',
      '/teacher/options/headers',
      '/evaluators',
      '/evaluators/0',
      '/evaluators/0/use',
      '/name',
    ]),
  };
  const merged = mergeDocuments(base, override);
  assert.deepEqual(merged.value, { teacher: { options: { model: 'a', headers: 'none' } }, evaluators: [{ use: 'y' }], name: 'child' });
  const files = Object.fromEntries(
    [...merged.sourceMap].map(([pointer, location]) => [pointer, `${location.value.file}:${location.value.line}`]),
  );
  assert.deepEqual(files, {
    '': 'child.yaml:1',
    '/teacher': 'child.yaml:2',
    '/teacher/options': 'child.yaml:3',
    '/teacher/options/model': 'base.yaml:4',
    '/teacher/options/headers': 'child.yaml:4',
    '/evaluators': 'child.yaml:5',
    '/evaluators/0': 'child.yaml:6',
    '/evaluators/0/use': 'child.yaml:7',
    '/name': 'child.yaml:8',
  });
});

test('merging a mapping of 50,000 keys over another takes well under ten seconds', () => {
  // Copying positions key by key used to scan the whole map per key: 46 s for 49,000 keys.
  const keys = Array.from({ length: 50_000 }, (_, index) => `x-${index}`);
  const document = (file: string) => ({
    value: Object.fromEntries(keys.map((key) => [key, { value: file }])),
    sourceMap: positions(file, ['', ...keys.flatMap((key) => [`/${key}`, `/${key}/value`])]),
  });
  const started = Date.now();
  const merged = mergeDocuments(document('base.yaml'), document('child.yaml'));
  const seconds = (Date.now() - started) / 1000;
  assert.equal(merged.sourceMap.size, 1 + 2 * keys.length);
  assert.equal(merged.sourceMap.get('/x-49999/value')?.value.file, 'child.yaml');
  assert.ok(seconds < 10, `took ${seconds} s`);
});
