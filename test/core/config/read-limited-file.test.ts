import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readLimitedFile, unreadablePath } from '../../../core/config/read-limited-file.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

test(
  'the limit holds on the read itself, for a file whose stat size says nothing',
  { skip: process.platform !== 'linux' && 'needs /proc' },
  async () => {
    // /proc files are regular files that stat as 0 bytes.
    assert.equal(statSync('/proc/self/status').size, 0);
    assert.deepEqual(await readLimitedFile('/proc/self/status', 100), { tooLarge: {} });
    const read = await readLimitedFile('/proc/self/status', 1024 * 1024);
    assert.ok('text' in read && read.text.startsWith('Name:'), 'under the limit, it is read whole');
  },
);

test('a file larger than the limit by stat is refused with its size; one at the limit is read', async (context) => {
  const file = path.join(temporaryDirectory(context), 'pipeline.yaml');
  writeFileSync(file, 'name: é\n'); // 9 bytes, 8 characters
  assert.deepEqual(await readLimitedFile(file, 8), { tooLarge: { bytes: 9 } });
  assert.deepEqual(await readLimitedFile(file, 9), { text: 'name: é\n', bytes: 9 });
});

test(
  'a FIFO, a folder and a device are refused without being opened for reading',
  { skip: process.platform === 'win32' && 'needs mkfifo' },
  async (context) => {
    const directory = temporaryDirectory(context);
    const fifo = path.join(directory, 'pipe');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    mkdirSync(path.join(directory, 'folder'));
    // Opening the FIFO would wait for a writer forever: the test would time out rather than fail.
    await assert.rejects(readLimitedFile(fifo, 1024), { message: 'it is a named pipe (FIFO)' });
    await assert.rejects(readLimitedFile(path.join(directory, 'folder'), 1024), { message: 'it is a folder' });
    await assert.rejects(readLimitedFile('/dev/zero', 1024), { message: 'it is a device' });
    assert.deepEqual(await unreadablePath(fifo), { missing: false, reason: 'it is a named pipe (FIFO)' });
    assert.deepEqual(await unreadablePath(path.join(directory, 'missing.yaml')), { missing: true, reason: 'it does not exist' });
    assert.deepEqual(await unreadablePath(path.join(directory, 'folder')), { missing: false, reason: 'it is a folder' });
    writeFileSync(path.join(directory, 'pipeline.yaml'), 'name: x\n');
    assert.equal(await unreadablePath(path.join(directory, 'pipeline.yaml')), undefined);
  },
);
