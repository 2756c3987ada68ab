import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { test } from 'node:test';
import { distillBin } from '../support/run-distill.js';

// @oclif/plugin-not-found offers its suggestion on a terminal only (it asks whether to run it), so the
// command runs on a pseudo-terminal made by `script`, and declines.
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

test(
  'a mistyped command gets the closest command as a suggestion',
  { skip: hasScript ? false : 'no `script` command for a pseudo-terminal' },
  () => {
    const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(distillBin)} runn`;
    const result = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', input: 'n\n', timeout: 60_000 });
    const output = stripVTControlCharacters(result.stdout);
    assert.match(output, /runn is not a distill command/);
    assert.match(output, /Did you mean run\?/);
    assert.equal(result.status, 127, 'declined: not found');
  },
);

test('without a terminal a mistyped command still fails clearly, without a stack trace', () => {
  const result = spawnSync(process.execPath, [distillBin, 'valdate'], { encoding: 'utf8' });
  // Colours are on where the environment says CI (oclif's colour detection), so compare the text without them.
  const stderr = stripVTControlCharacters(result.stderr);
  assert.equal(result.status, 127);
  assert.match(stderr, /valdate is not a distill command/);
  assert.doesNotMatch(stderr, /^\s+at .+:\d+:\d+\)?$/m);
});
