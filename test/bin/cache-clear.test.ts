import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { TeacherCache } from '../../core/teacher/teacher-cache.js';
import { distillBin } from '../support/run-distill.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

/** A real cache file holding `count` answers of gpt-4o-mini. */
function cacheWith(directory: string, count: number): string {
  const file = path.join(directory, 'cache.sqlite');
  const cache = TeacherCache.open(file);
  const origin = { pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model: 'gpt-4o-mini' };
  for (let index = 0; index < count; index++) {
    cache.put(
      `key-${index}`,
      origin,
      { text: `answer ${index}`, usage: { promptTokens: 3, completionTokens: 2 }, model: 'gpt-4o-mini', finishReason: 'stop' },
      Date.now(),
    );
  }
  cache.close();
  return file;
}

function entries(file: string): number {
  const cache = TeacherCache.open(file);
  try {
    return cache.statistics().entries;
  } finally {
    cache.close();
  }
}

// `script` runs the command on a pseudo-terminal, as a user at a terminal would, and passes our stdin to it.
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test('cache clear without --yes and without a terminal removes nothing and says how to proceed', (context) => {
  const file = cacheWith(temporaryDirectory(context), 3);
  const result = spawnSync(process.execPath, [distillBin, 'cache', 'clear', '--path', file], { encoding: 'utf8', input: 'y\n' });
  assert.equal(result.status, 1);
  assert.match(
    result.stderr,
    /cache clear would remove the answers \(all of them\) from .*cache\.sqlite \(3 stored\), and stdin is not a terminal to ask\n {2}fix: add --yes to remove them without asking/,
  );
  assert.equal(entries(file), 3, 'nothing removed');
  const confirmed = spawnSync(process.execPath, [distillBin, 'cache', 'clear', '--path', file, '--yes'], { encoding: 'utf8' });
  assert.equal(confirmed.status, 0, confirmed.stderr);
  assert.match(confirmed.stdout, /removed 3 answers from .*; 0 left/);
  assert.equal(entries(file), 0);
});

test(
  'cache clear on a terminal asks, and only a yes removes',
  { skip: hasScript ? false : 'no `script` command for a pseudo-terminal' },
  (context) => {
    const file = cacheWith(temporaryDirectory(context), 2);
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(distillBin)} cache clear --path ${JSON.stringify(file)}`;
    const declined = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', input: 'n\n', timeout: 60_000 });
    assert.match(declined.stdout, /remove the answers \(all of them\) from .*\(2 stored\)\? \[y\/N\]/);
    assert.match(declined.stdout, /nothing removed/);
    assert.equal(entries(file), 2);
    const accepted = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', input: 'y\n', timeout: 60_000 });
    assert.equal(accepted.status, 0, accepted.stdout);
    assert.match(accepted.stdout, /removed 2 answers/);
    assert.equal(entries(file), 0);
  },
);
