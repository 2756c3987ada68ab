import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { CacheCheckResult, CacheRepairResult } from '../../core/teacher/cache-maintenance.js';
import { damageMiddle, overwritePages, pageSize, writeRealCache, writeUnreadableCaches } from '../core/teacher/cache-fixtures.js';
import { startProviderServer } from '../support/provider-server.js';
import { runDistill } from '../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// These tests run the real `distill` binary on real SQLite files, as a user would.
const stackTraceLine = /^\s+at .+:\d+:\d+\)?$/m;

test('a cache that is not a database, truncated or 0 bytes: distill says which file and what to do, exits 1, no stack trace', async (context) => {
  const directory = temporaryDirectory(context);
  const { truncated, garbage, empty } = writeUnreadableCaches(directory);
  const expectations: [string, RegExp][] = [
    [
      garbage,
      /is not an SQLite database.*\n {2}fix: run `distill cache check --path \S+garbage\.sqlite`.*`distill cache repair --path \S+garbage\.sqlite`/,
    ],
    [
      truncated,
      /is damaged \(SQLite: the database disk image is malformed\).*\n {2}fix: .*distill cache repair --path \S+truncated\.sqlite/,
    ],
    [empty, /is empty \(0 bytes\).*truncated, or restored from an empty backup\?\n {2}fix: restore it from a backup; or delete it/],
  ];
  for (const [file, expected] of expectations) {
    const result = await runDistill(['cache', 'stats', '--path', file]);
    assert.equal(result.code, 1, result.stderr);
    assert.ok(result.stderr.includes(file), result.stderr);
    assert.match(result.stderr, expected);
    assert.doesNotMatch(result.stderr + result.stdout, stackTraceLine);
    assert.doesNotMatch(result.stderr, /SqliteError/);
  }
  assert.equal(statSync(empty).size, 0);
});

test('distill cache check: exit 0 on a healthy cache, 1 on a damaged one with what is wrong and the fix; --json', async (context) => {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'cache.sqlite');
  writeRealCache(file, 200);
  const healthy = await runDistill(['cache', 'check', '--path', file]);
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.equal(healthy.stdout, `✓ ${file}: healthy, 200 answers\n`);

  damageMiddle(file);
  const damaged = await runDistill(['cache', 'check', '--path', file]);
  assert.equal(damaged.code, 1);
  assert.match(damaged.stderr, new RegExp(`^✗ ${file.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\n`));
  assert.match(
    damaged.stderr,
    /\n {2}\d+ answers can be read; about \d+ cannot\n {2}fix: `distill cache repair --path \S+` keeps every readable answer/,
  );
  assert.doesNotMatch(damaged.stderr, stackTraceLine);

  const json = await runDistill(['cache', 'check', '--path', file, '--json']);
  assert.equal(json.code, 1);
  const verdict = JSON.parse(json.stdout) as CacheCheckResult;
  assert.deepEqual([verdict.file, verdict.exists, verdict.healthy], [file, true, false]);
  assert.ok(verdict.readableAnswers > 0 && verdict.readableAnswers < 200 && verdict.problems.length > 0);
});

test('distill cache repair keeps the readable answers, says where the original is, and leaves a cache that passes check', async (context) => {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'cache.sqlite');
  writeRealCache(file, 200);
  damageMiddle(file);
  const before = JSON.parse((await runDistill(['cache', 'check', '--path', file, '--json'])).stdout) as CacheCheckResult;

  const repaired = await runDistill(['cache', 'repair', '--path', file, '--json']);
  assert.equal(repaired.code, 0, repaired.stderr);
  const result = JSON.parse(repaired.stdout) as CacheRepairResult;
  assert.deepEqual([result.file, result.kept, result.lost], [file, before.readableAnswers, before.unreadableAnswers]);
  assert.match(result.damagedFile, /cache\.sqlite\.damaged-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z$/);
  const original = JSON.parse((await runDistill(['cache', 'check', '--path', result.damagedFile, '--json'])).stdout) as CacheCheckResult;
  assert.deepEqual([original.healthy, original.readableAnswers], [false, before.readableAnswers]);

  const after = await runDistill(['cache', 'check', '--path', file]);
  assert.equal(after.code, 0, after.stderr);
  assert.equal(after.stdout, `✓ ${file}: healthy, ${result.kept} answers\n`);
  const text = await runDistill(['cache', 'repair', '--path', file]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    new RegExp(
      `^repaired .*cache\\.sqlite: kept ${result.kept} answers, lost 0\n {2}the damaged original is kept at .*cache\\.sqlite\\.damaged-`,
    ),
  );
});

test('distill teach on a cache damaged under it: the first lookup ends the run with the file and the fix, no stack trace', async (context) => {
  const server = await startProviderServer('openai', (request) => ({
    kind: 'answer',
    text: `Answer: yes, because ${request.prompt} ${'has an answer of its own; '.repeat(40)}`,
  }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 30 });
  const files = teachOutputFiles(directory);
  const first = await runDistill(['teach', pipeline]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(server.requests.length, 30);

  // Every page but the first (the schema): the cache opens, and every lookup of an answer fails.
  const cache = files.cache;
  overwritePages(cache, 2, statSync(cache).size / pageSize(cache) - 1);
  rmSync(path.join(directory, 'runs'), { recursive: true });
  const second = await runDistill(['teach', pipeline]);
  assert.equal(second.code, 1, second.stdout);
  assert.ok(second.stderr.includes(`the teacher cache at ${cache} is damaged`), second.stderr);
  assert.match(second.stderr, /fix: run `distill cache check --path \S+teacher-cache\.sqlite`/);
  assert.doesNotMatch(second.stderr + second.stdout, stackTraceLine);
  assert.equal(server.requests.length, 30, 'no answer is bought again while the cache cannot be read');
});

test('a cache that a teacher stage of this run folder used and that is gone is reported before the next stage asks anything', async (context) => {
  const server = await startProviderServer('openai', () => ({
    kind: 'answer',
    text: 'Answer: yes, because the number in the question decides it',
  }));
  context.after(() => server.close());
  const directory = temporaryDirectory(context);
  const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 4 });
  assert.equal((await runDistill(['teach', pipeline])).code, 0);
  const cache = teachOutputFiles(directory).cache;
  for (const file of [cache, `${cache}-wal`, `${cache}-shm`]) rmSync(file, { force: true });
  // A new model: a new teacher stage, whose answers could only have come from the cache.
  const newStage = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: 4, model: 'gpt-4o' });
  const json = await runDistill(['teach', newStage, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const events = json.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const missing = events.findIndex((event) => event.type === 'teacher.cache_missing');
  assert.ok(missing >= 0, 'the missing cache is reported');
  assert.deepEqual([events[missing]!.file, events[missing]!.entries], [cache, 4]);
  assert.ok(missing < events.findIndex((event) => event.type === 'teacher.request'), 'before the first paid request');
});
