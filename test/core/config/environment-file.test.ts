import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadEnvironmentFile } from '../../../core/config/environment-file.js';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { UserError } from '../../../core/errors/user-error.js';
import { startRunRecords, writeLockfile } from '../../../core/runner/run-records.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';
import { testPath } from '../../support/paths.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { stableRegistry } from './stable-registry.js';

test('.env fills variables that are not set, and never replaces one that is', async (context) => {
  const directory = temporaryDirectory(context);
  writeFileSync(path.join(directory, '.env'), '# keys\nFROM_FILE=file value\nALREADY_SET=from the file\nQUOTED="a b"\n');
  const environment: Record<string, string | undefined> = { ALREADY_SET: 'from the shell' };
  const loaded = await loadEnvironmentFile(directory, environment);
  assert.deepEqual(loaded, { file: path.join(directory, '.env'), variables: ['FROM_FILE', 'QUOTED'] });
  assert.equal(environment.FROM_FILE, 'file value');
  assert.equal(environment.QUOTED, 'a b');
  assert.equal(environment.ALREADY_SET, 'from the shell', 'the shell wins');
});

test('no .env is no change; a .env that is not a file is a clear error', async (context) => {
  const directory = temporaryDirectory(context);
  const environment: Record<string, string | undefined> = {};
  assert.equal(await loadEnvironmentFile(directory, environment), null);
  assert.deepEqual(environment, {});
  mkdirSync(path.join(directory, '.env'));
  await assert.rejects(loadEnvironmentFile(directory, environment), (error: unknown) => {
    assert.ok(error instanceof UserError);
    assert.match(error.problems[0]!.message, /cannot read \.env: it is a folder/);
    return true;
  });
});

test('a key from .env used by the pipeline is redacted in the run folder’s resolved config; it and the lockfile name the .env and each --set', async (context) => {
  const directory = temporaryDirectory(context);
  writeFileSync(path.join(directory, '.env'), 'FIXTURE_API_KEY=sk-secret-from-dotenv-42\n');
  const environment: Record<string, string | undefined> = {};
  const environmentFile = await loadEnvironmentFile(directory, environment);
  const loaded = await loadPipeline(testPath('core', 'config', 'fixtures', 'valid', 'base.yaml'), {
    environment,
    registry: stableRegistry(),
    overrides: ['trainer.options.steps=33'],
    environmentFile,
  });
  assert.equal(loaded.config.teacher.options.api_key, 'sk-secret-from-dotenv-42', 'the pipeline got the value from .env');
  const runDirectory = path.join(directory, 'run');
  startRunRecords(loaded, runDirectory, new LocalEventStream())();
  const resolved = readFileSync(path.join(runDirectory, 'config.resolved.yaml'), 'utf8');
  assert.doesNotMatch(resolved, /sk-secret-from-dotenv-42/);
  assert.match(resolved, /api_key: "?\[redacted\]"?/);
  assert.match(resolved, /^# --set trainer\.options\.steps=33$/m);
  assert.match(resolved, new RegExp(`^# from ${path.join(directory, '.env').replaceAll('.', '\\.')}: FIXTURE_API_KEY$`, 'm'));
  assert.match(resolved, /steps: 33/);
  const lockfile = writeLockfile(loaded, runDirectory, [], {}, {}, '0.0.0', []);
  assert.deepEqual(lockfile.overrides, ['trainer.options.steps=33']);
  assert.deepEqual(lockfile.environmentFile, { file: path.join(directory, '.env'), variables: ['FIXTURE_API_KEY'] });
  assert.doesNotMatch(readFileSync(path.join(runDirectory, 'distill.lock.json'), 'utf8'), /sk-secret-from-dotenv-42/);
});
