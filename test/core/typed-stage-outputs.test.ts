import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repositoryRoot } from '../support/paths.js';

// A stage's output is typed by the stage-output map (`core/runner/stage-outputs.ts`) and read through
// `outcomes.of(name)` or `context.upstream`, never cast: a cast would hide a change of a stage's
// output from the compiler, and from every stage after it.

function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => path.join(folder, file));
}

/** `output as X`, `output! as X`, `output as unknown as X`, `output as { … }`, across line breaks. */
const outputCast = /\boutput!?\s+as\s+(?:[A-Z{]|unknown\b|any\b)/g;

test('no stage output is read through an `as` cast anywhere in the code base', () => {
  const casts: string[] = [];
  for (const folder of ['core', 'bin', 'plugins', 'bench', 'test']) {
    for (const file of typeScriptFiles(path.join(repositoryRoot, folder))) {
      if (file === path.join(repositoryRoot, 'test', 'core', 'typed-stage-outputs.test.ts')) continue;
      const source = readFileSync(file, 'utf8');
      for (const match of source.matchAll(outputCast)) {
        casts.push(`${path.relative(repositoryRoot, file)}:${source.slice(0, match.index).split('\n').length}`);
      }
    }
  }
  assert.deepEqual(casts, []);
});

test('the check finds a cast of a stage output', () => {
  assert.ok(outputCast.test('const report = teacher.record.output as TeacherReport;'));
  outputCast.lastIndex = 0;
  assert.ok(!outputCast.test('const report = teacher.record.output;'));
});
