import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { diffPipeline, formatPipelineDiff } from '../../../core/runner/diff-pipeline.js';
import { testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { stableRegistry } from '../config/stable-registry.js';

/** Writes a file, making its folder. */
function write(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
}

// A teacher whose secret option has a name no heuristic would guess: only its schema says it is secret.
const vaultTeacher = `export default [{
  id: 'vault-teacher',
  kind: 'teacher',
  version: '1.0.0',
  summary: 'A teacher with a secret passphrase (test fixture).',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['model'],
    properties: { model: { type: 'string' }, passphrase: { type: 'string', secret: true } },
  },
  create() {
    throw new Error('never created by a diff');
  },
}];
`;

test('a value the plugin’s schema marks secret is redacted on both sides, the snapshot’s old one included', async (context) => {
  const [oldPassphrase, newPassphrase] = [0, 1].map(() => `canary-${randomBytes(12).toString('hex')}`) as [string, string];
  const directory = temporaryDirectory(context);
  const recipe = (passphrase: string, alpha: number) =>
    `teacher:\n  use: vault-teacher\n  options:\n    model: tiny\n    passphrase: ${passphrase}\nloss:\n  use: constant\n  options:\n    alpha: ${alpha}\n`;
  const root = path.join(directory, 'node_modules', '@acme', 'recipes');
  write(path.join(root, 'package.json'), JSON.stringify({ name: '@acme/recipes', version: '1.1.0' }));
  write(path.join(root, 'nli.yaml'), recipe(newPassphrase, 0.3));
  write(path.join(directory, 'vault-teacher.js'), vaultTeacher);
  const fixtures = testPath('core', 'config', 'fixtures');
  write(
    path.join(directory, 'pipeline.yaml'),
    [
      'extends: "@acme/recipes/nli.yaml"',
      'name: nli-test',
      `plugins: [${JSON.stringify(path.join(fixtures, 'plugins', 'fixture-plugins.js'))}, ./vault-teacher.js]`,
      `dataset: { use: fixture-dataset, options: { directory: ${JSON.stringify(path.join(fixtures, 'data'))} } }`,
      'prompt: { use: fixture-prompt, options: { template: "{question}" } }',
      'parser: { use: fixture-parser }',
      'student: { size: tiny }',
      'trainer: { use: fixture-trainer }',
      '',
    ].join('\n'),
  );
  const runDirectory = path.join(directory, 'runs', 'nli-test');
  const old = recipe(oldPassphrase, 0.5);
  const snapshot = 'recipes/@acme/recipes@1.0.0/nli.yaml';
  write(path.join(runDirectory, snapshot), old);
  const locked = {
    package: '@acme/recipes',
    version: '1.0.0',
    recipe: 'nli.yaml',
    sha256: createHash('sha256').update(old).digest('hex'),
    snapshot,
  };
  write(path.join(runDirectory, 'distill.lock.json'), JSON.stringify({ recipes: [locked] }));

  const diff = await diffPipeline(path.join(directory, 'pipeline.yaml'), { registry: stableRegistry(), environment: {} });
  assert.deepEqual(
    diff.changes.map(({ pointer, before, after }) => ({ pointer, before, after })),
    [
      { pointer: '/teacher/options/passphrase', before: '[redacted]', after: '[redacted]' },
      { pointer: '/loss/options/alpha', before: 0.5, after: 0.3 },
    ],
  );
  const shown = formatPipelineDiff(diff) + JSON.stringify(diff);
  assert.ok(!shown.includes(oldPassphrase) && !shown.includes(newPassphrase), 'a passphrase was shown');

  // What redacts it is the schema: without the plugins nothing says a passphrase is secret.
  const unknowing = await diffPipeline(path.join(directory, 'pipeline.yaml'), { environment: {} });
  assert.equal(unknowing.changes[0]!.before, oldPassphrase);
});
