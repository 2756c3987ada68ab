import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadPipeline } from '../../../core/config/load-pipeline.js';
import { displayPath } from '../../../core/config/source-map.js';
import type { Problem } from '../../../core/errors/problem.js';
import { UserError } from '../../../core/errors/user-error.js';
import { testPath } from '../../support/paths.js';
import { stableRegistry } from './stable-registry.js';

// Each file in fixtures/invalid/ is a pipeline with known mistakes; expected.json lists, per file,
// every problem the loader must report: file (relative to fixtures/), line, column, pointer,
// message, plugin and fix. `{fixtures}` and `{shown}` stand for the fixtures folder as an absolute
// path and as displayed (relative to the working directory).
const fixtures = testPath('core', 'config', 'fixtures');
const invalidDirectory = path.join(fixtures, 'invalid');
const expected = JSON.parse(readFileSync(path.join(invalidDirectory, 'expected.json'), 'utf8')) as Record<
  string,
  Record<string, unknown>[]
>;
const environment = { FIXTURE_API_KEY: 'sk-fixture-secret-1' };
const registry = stableRegistry();
const files = readdirSync(invalidDirectory)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

function fill(text: unknown): unknown {
  return typeof text === 'string' ? text.split('{fixtures}').join(fixtures).split('{shown}').join(displayPath(fixtures)) : text;
}

function comparable(problem: Problem): Record<string, unknown> {
  return {
    file: problem.file === undefined ? undefined : path.relative(fixtures, path.resolve(problem.file)),
    line: problem.line,
    column: problem.column,
    ...(problem.pointer !== undefined ? { pointer: problem.pointer } : {}),
    message: problem.message,
    ...(problem.plugin ? { plugin: problem.plugin } : {}),
    ...(problem.fix ? { fix: problem.fix } : {}),
  };
}

test('the corpus holds at least 40 invalid pipelines, each with its expected problems', () => {
  assert.ok(files.length >= 40, `only ${files.length} invalid pipelines`);
  assert.deepEqual(
    files.filter((name) => !(name in expected)),
    [],
    'files without an entry in expected.json',
  );
});

for (const name of files) {
  test(`invalid pipeline ${name}`, async () => {
    const want = (expected[name] ?? []).map((problem) => ({
      ...problem,
      message: fill(problem.message),
      ...(problem.fix ? { fix: fill(problem.fix) } : {}),
    }));
    await assert.rejects(loadPipeline(path.join(invalidDirectory, name), { environment, registry }), (error: unknown) => {
      assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
      assert.deepEqual(error.problems.map(comparable), want);
      return true;
    });
  });
}
