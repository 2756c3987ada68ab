import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../support/paths.js';
import { runDistill } from '../support/run-distill.js';

// The real `distill` binary, as a user runs it.

test('distill plugins <id> prints the same reference as the plugin’s checked-in page', async () => {
  const result = await runDistill(['plugins', 'regex']);
  assert.equal(result.code, 0, result.stderr);
  const page = readFileSync(path.join(repositoryRoot, 'docs', 'plugins', 'parser-regex.md'), 'utf8');
  // The page adds only the generated-file note above the reference.
  assert.equal(result.stdout, `${page.slice(page.indexOf('# parser plugin'))}\n`);
  assert.match(result.stdout, /- `min_rationale_words` \(integer\): .* Default: `5`\. Allowed: ≥ 0\./);
});

test('distill plugins kind/id --json returns the options with types, defaults and the example', async () => {
  const result = await runDistill(['plugins', 'dataset/csv', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const [csv] = JSON.parse(result.stdout) as {
    id: string;
    options: { path: string; type: string; default?: unknown }[];
    example: string;
  }[];
  assert.equal(csv!.id, 'csv');
  assert.deepEqual(
    csv!.options.find((option) => option.path === 'separator'),
    {
      path: 'separator',
      type: 'string',
      required: false,
      default: ',',
      description: 'The character between cells: `,`, or `;` or a tab (`"\\t"` in YAML) for files that use them.',
      constraints: ['not empty', 'at most 1 character(s)'],
    },
  );
  assert.match(csv!.example, /^dataset:\n {2}use: csv\n/);
});

test('distill plugins with a mistyped id exits 1 with a did-you-mean and no stack trace', async () => {
  const result = await runDistill(['plugins', 'labl-source']);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /no plugin is named "labl-source"\n {2}fix: did you mean "label-source"\? plugins: csv, dsbs, jsonl, /);
  assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m);
});

test('distill plugins still lists every plugin with its option names', async () => {
  const result = await runDistill(['plugins']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^dataset {6}csv {18}1\.0\.0 {4}Examples from CSV files/m);
  assert.match(result.stdout, /options: files\*, separator, id_field, label_field, fields, student_input, labels/);
});
