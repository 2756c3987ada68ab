import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Problem } from '../../../core/errors/problem.js';
import { UserError } from '../../../core/errors/user-error.js';
import { loadExternalPlugins } from '../../../core/plugins/load-external-plugins.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const location = { file: 'pipeline.yaml', line: 4, column: 5, pointer: '/plugins/0' };

/** Loads one plugin file written into `directory`, returning the problems it gave. */
async function problemsOf(directory: string, name: string, source: string): Promise<readonly Problem[]> {
  writeFileSync(path.join(directory, name), source);
  try {
    await loadExternalPlugins([{ specifier: `./${name}`, baseDirectory: directory, location }]);
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`${name} loaded`);
}

test('a plugin that calls process.exit while imported is reported at its reference, and process.exit is restored', async (context) => {
  const directory = temporaryDirectory(context);
  // A stand-in, so that a missing guard fails this test instead of ending it with status 0.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back on `process`, never called detached
  const exit = process.exit;
  const calls: unknown[] = [];
  const standIn = ((code?: number) => {
    calls.push(code);
    throw new Error('the real process.exit was reached');
  }) as typeof process.exit;
  process.exit = standIn;
  context.after(() => {
    process.exit = exit;
  });
  assert.deepEqual(await problemsOf(directory, 'exits.js', 'process.exit(0);\n'), [
    {
      ...location,
      message: 'plugin "./exits.js" called process.exit(0) while being imported',
      fix: 'a plugin must not end the process; throw an error instead, and distill reports it',
    },
  ]);
  assert.ok(process.exit === standIn, 'what was there before loading is put back');
  // After a top-level await, and with the refusal caught: still reported.
  const later = await problemsOf(
    directory,
    'exits-later.js',
    'await Promise.resolve();\ntry { process.exit(3); } catch {}\nexport default {};\n',
  );
  assert.deepEqual(
    later.map((problem) => problem.message),
    ['plugin "./exits-later.js" called process.exit(3) while being imported'],
  );
  assert.ok(process.exit === standIn);
  assert.deepEqual(calls, [], 'no call reached the process.exit in place before loading');
});

test('a plugin whose import rejects is reported with the reason', async (context) => {
  const directory = temporaryDirectory(context);
  assert.deepEqual(await problemsOf(directory, 'rejects.js', "await Promise.reject(new Error('no model found'));\n"), [
    { ...location, message: 'plugin "./rejects.js" failed to load: no model found' },
  ]);
});

test(
  'a plugin path that is a FIFO or a folder is refused without being imported',
  { timeout: 20_000, skip: process.platform === 'win32' && 'needs mkfifo' },
  async (context) => {
    const directory = temporaryDirectory(context);
    assert.equal(spawnSync('mkfifo', [path.join(directory, 'pipe.js')]).status, 0);
    mkdirSync(path.join(directory, 'folder.js'));
    // Importing the FIFO would leave a read pending forever, keeping the process alive.
    await assert.rejects(
      loadExternalPlugins([
        { specifier: './pipe.js', baseDirectory: directory, location },
        { specifier: './folder.js', baseDirectory: directory, location },
      ]),
      (error: unknown) => {
        assert.ok(error instanceof UserError);
        assert.deepEqual(
          error.problems.map((problem) => problem.message),
          [
            `cannot load plugin ${path.join(directory, 'pipe.js')}: it is a named pipe (FIFO)`,
            `cannot load plugin ${path.join(directory, 'folder.js')}: it is a folder`,
          ],
        );
        return true;
      },
    );
  },
);
