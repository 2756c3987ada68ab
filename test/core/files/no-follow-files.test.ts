import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { registerSecrets } from '../../../core/config/redact.js';
import { UserError } from '../../../core/errors/user-error.js';
import { assertNoLinks } from '../../../core/files/assert-no-links.js';
import { appendFileNoFollow, NoFollowAppender, readTextFileNoFollow, writeFileNoFollow } from '../../../core/files/no-follow-files.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

function plantedLink(directory: string, name: string): { link: string; outside: string } {
  const outside = path.join(directory, 'outside.txt');
  writeFileSync(outside, 'precious\n');
  const link = path.join(directory, 'run', name);
  mkdirSync(path.dirname(link), { recursive: true });
  symlinkSync(outside, link);
  return { link, outside };
}

test('a whole-file write replaces a planted link instead of writing through it', (context) => {
  const { link, outside } = plantedLink(temporaryDirectory(context), 'summary.json');
  writeFileNoFollow(link, '{"new": true}\n');
  assert.equal(readFileSync(outside, 'utf8'), 'precious\n');
  assert.equal(lstatSync(link).isSymbolicLink(), false);
  assert.equal(readFileSync(link, 'utf8'), '{"new": true}\n');
});

test('appending to or reading a planted link is refused with a user error naming it', (context) => {
  const { link, outside } = plantedLink(temporaryDirectory(context), 'events.jsonl');
  for (const attempt of [
    () => appendFileNoFollow(link, 'line\n'),
    () => new NoFollowAppender(link).append('line\n'),
    () => readTextFileNoFollow(link),
  ]) {
    assert.throws(
      attempt,
      (error: unknown) => error instanceof UserError && error.message.includes(link) && /symbolic link/.test(error.message),
    );
  }
  assert.equal(readFileSync(outside, 'utf8'), 'precious\n');
});

test('a run folder with a link anywhere inside is refused before anything is written', (context) => {
  const directory = temporaryDirectory(context);
  const { link } = plantedLink(directory, path.join('stages', 'teacher', 'abc', 'teacher-records.jsonl'));
  assert.throws(
    () => assertNoLinks(path.join(directory, 'run')),
    (error: unknown) => error instanceof UserError && error.message.includes(link),
  );
  assertNoLinks(path.join(directory, 'missing'));
  // The folder itself may be reached through a link (runs kept on another disk).
  mkdirSync(path.join(directory, 'clean', 'stages'), { recursive: true });
  writeFileSync(path.join(directory, 'clean', 'stages', 'stage.json'), '{}');
  symlinkSync(path.join(directory, 'clean'), path.join(directory, 'via-link'));
  assertNoLinks(path.join(directory, 'via-link'));
});

test('text written through these functions has registered secrets redacted', (context) => {
  const directory = temporaryDirectory(context);
  registerSecrets(['sk-files-test-secret-99']);
  writeFileNoFollow(path.join(directory, 'a.txt'), 'key sk-files-test-secret-99\n');
  appendFileNoFollow(path.join(directory, 'b.txt'), 'key sk-files-test-secret-99\n');
  assert.equal(readFileSync(path.join(directory, 'a.txt'), 'utf8'), 'key [redacted]\n');
  assert.equal(readFileSync(path.join(directory, 'b.txt'), 'utf8'), 'key [redacted]\n');
  assert.ok(!existsSync(path.join(directory, 'a.txt.tmp')));
});
