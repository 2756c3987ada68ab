import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { diffDocuments, formatChanges } from '../../../core/config/config-diff.js';
import { resolveExtends, type ResolvedDocument } from '../../../core/config/resolve-extends.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

/** Two YAML files written and read as the loader reads them, so the source maps are the real ones. */
async function documents(
  context: TestContext,
  before: string,
  after: string,
): Promise<{ before: ResolvedDocument; after: ResolvedDocument; directory: string }> {
  const directory = temporaryDirectory(context);
  writeFileSync(path.join(directory, 'before.yaml'), before);
  writeFileSync(path.join(directory, 'after.yaml'), after);
  const [old, current] = await Promise.all([
    resolveExtends(path.join(directory, 'before.yaml'), {}),
    resolveExtends(path.join(directory, 'after.yaml'), {}),
  ]);
  assert.deepEqual([old.problems, current.problems], [[], []]);
  return { before: old, after: current, directory };
}

test('a changed, an added and a removed key, nested, each with the file:line:col of its sides', async (context) => {
  const { before, after, directory } = await documents(
    context,
    'name: nli\nloss:\n  use: distill-weight\n  options:\n    alpha: 0.5\n    temperature: 2\n',
    'name: nli\nloss:\n  use: distill-weight\n  options:\n    alpha: 0.3\n    warmup: 10\n',
  );
  const file = (name: string) => path.join(directory, name);
  const changes = diffDocuments(before, after, { secrets: [] });
  assert.deepEqual(changes, [
    {
      pointer: '/loss/options/alpha',
      kind: 'changed',
      before: 0.5,
      after: 0.3,
      beforeSource: `${file('before.yaml')}:5:12`,
      afterSource: `${file('after.yaml')}:5:12`,
    },
    { pointer: '/loss/options/warmup', kind: 'added', after: 10, afterSource: `${file('after.yaml')}:6:13` },
    { pointer: '/loss/options/temperature', kind: 'removed', before: 2, beforeSource: `${file('before.yaml')}:6:18` },
  ]);
});

test('equal documents have no changes, whatever their key order and sources', async (context) => {
  const { before, after } = await documents(context, 'a: 1\nb: [x, {c: 2}]\n', '# moved\nb:\n  - x\n  - c: 2\na: 1\n');
  assert.deepEqual(diffDocuments(before, after, { secrets: [] }), []);
});

test('lists are compared by index: a changed item key by key, items past the shorter end added or removed', async (context) => {
  const { before, after } = await documents(
    context,
    'samplers:\n  - use: a\n  - use: b\n    options: {size: 10}\n',
    'samplers:\n  - use: a\n  - use: b\n    options: {size: 20}\n  - use: c\n',
  );
  const changes = diffDocuments(before, after, { secrets: [] });
  assert.deepEqual(
    changes.map(({ pointer, kind, before: old, after: current }) => ({ pointer, kind, old, current })),
    [
      { pointer: '/samplers/1/options/size', kind: 'changed', old: 10, current: 20 },
      { pointer: '/samplers/2', kind: 'added', old: undefined, current: { use: 'c' } },
    ],
  );
  const shorter = diffDocuments(after, before, { secrets: [] });
  assert.deepEqual(
    shorter.map(({ pointer, kind }) => `${kind} ${pointer}`),
    ['changed /samplers/1/options/size', 'removed /samplers/2'],
  );
});

test('a value that changes type is one change of the whole value', async (context) => {
  const { before, after } = await documents(
    context,
    'teacher:\n  options:\n    stop: [".", "!"]\n',
    'teacher:\n  options:\n    stop: {text: "."}\n',
  );
  assert.deepEqual(
    diffDocuments(before, after, { secrets: [] }).map(({ pointer, before: old, after: current }) => ({ pointer, old, current })),
    [{ pointer: '/teacher/options/stop', old: ['.', '!'], current: { text: '.' } }],
  );
});

test('secrets are never shown: given values anywhere in a string, and credential-named keys written literally', async (context) => {
  const { before, after } = await documents(
    context,
    'teacher:\n  options:\n    api_key: sk-old-literal-key\n    headers: {authorization: "Bearer tok-given-secret-1"}\n    model: m1\n',
    'teacher:\n  options:\n    api_key: sk-new-literal-key\n    headers: {authorization: "Bearer tok-given-secret-2"}\n    model: "${MODEL}"\n',
  );
  const changes = diffDocuments(before, after, { secrets: ['tok-given-secret-1', 'tok-given-secret-2'] });
  assert.deepEqual(
    changes.map(({ pointer, before: old, after: current }) => ({ pointer, old, current })),
    [
      { pointer: '/teacher/options/api_key', old: '[redacted]', current: '[redacted]' },
      { pointer: '/teacher/options/headers/authorization', old: 'Bearer [redacted]', current: 'Bearer [redacted]' },
      { pointer: '/teacher/options/model', old: 'm1', current: '${MODEL}' },
    ],
  );
  const text = formatChanges(changes) + JSON.stringify(changes);
  for (const secret of ['sk-old-literal-key', 'sk-new-literal-key', 'tok-given-secret'])
    assert.ok(!text.includes(secret), `${secret} shown`);
});

test('each side’s files can be named by a label (a snapshot as <package>@<version>/<recipe>), and the text has one line per key', async (context) => {
  const { before, after, directory } = await documents(
    context,
    'loss:\n  options:\n    alpha: 0.5\nname: a\n',
    'loss:\n  options:\n    alpha: 0.3\n',
  );
  const changes = diffDocuments(before, after, {
    secrets: [],
    beforeFileLabel: (file) => (file === path.join(directory, 'before.yaml') ? '@acme/recipes@1.0.0/recipes/nli.yaml' : file),
  });
  assert.equal(
    formatChanges(changes),
    [
      '~ /loss/options/alpha: 0.5 → 0.3',
      '    was @acme/recipes@1.0.0/recipes/nli.yaml:3:12',
      `    now ${path.join(directory, 'after.yaml')}:3:12`,
      '- /name: "a"',
      '    was @acme/recipes@1.0.0/recipes/nli.yaml:4:7',
    ].join('\n'),
  );
});
