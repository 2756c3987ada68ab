// The recipe's own smoke test: `npm test` validates every recipe this package declares and runs it
// offline, end to end, on the fixture in data/. It runs the `distill` command that npm puts on PATH
// for `npm test`: the one in devDependencies (node_modules/.bin/distill), or else one on your PATH.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const packageFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(path.join(packageFolder, 'package.json'), 'utf8'));

/** Runs `distill …args` in `folder`; a missing command fails with the way to install it. */
function distill(folder, ...args) {
  const result = spawnSync('distill', args, { cwd: folder, encoding: 'utf8', timeout: 600_000 });
  if (result.error) assert.fail(`cannot run distill (${result.error.message}): install it with \`npm install --save-dev distill\``);
  return result;
}

for (const [name, recipe] of Object.entries(manifest.distill.recipes)) {
  test(`recipe ${name}: validates, and runs offline on the fixture`, { timeout: 600_000 }, () => {
    const folder = mkdtempSync(path.join(tmpdir(), 'recipe-smoke-'));
    try {
      // A pipeline that inherits the recipe as a user's would, with the params' defaults.
      const pipeline = path.join(folder, 'pipeline.yaml');
      writeFileSync(pipeline, `extends: ${JSON.stringify(path.join(packageFolder, recipe.file))}\n`);
      const validated = distill(folder, 'validate', pipeline);
      assert.equal(validated.status, 0, validated.stderr);
      const run = distill(folder, 'run', pipeline, '--json');
      assert.equal(run.status, 0, run.stderr.slice(-4000));
      // With --json, progress events come first, one a line; the run's result is the last line.
      const result = JSON.parse(run.stdout.trim().split('\n').at(-1));
      const statuses = Object.fromEntries(result.stages.map((stage) => [stage.stage, stage.status]));
      for (const stage of ['dataset', 'teacher', 'trainer', 'export', 'evaluate']) assert.equal(statuses[stage], 'computed', stage);
      assert.ok(existsSync(path.join(result.runDirectory, 'report.md')), 'the run wrote its report');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
}
