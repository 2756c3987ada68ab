import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type Database from 'better-sqlite3';
import { isUserError } from '../../../core/errors/user-error.js';
import { resolveCachePath } from '../../../core/teacher/cache-location.js';
import { teacherCacheKey } from '../../../core/teacher/cache-key.js';
import { TeacherCacheError } from '../../../core/teacher/teacher-cache-error.js';
import { TeacherCache } from '../../../core/teacher/teacher-cache.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { damageMiddle, writeRealCache, writeUnreadableCaches } from './cache-fixtures.js';

const day = 86_400_000;
const origin = (model: string) => ({ pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model });
const response = (text: string) => ({
  text,
  usage: { promptTokens: 10, completionTokens: 5 },
  model: 'gpt-4o-mini-2024-07-18',
  finishReason: 'stop',
});

test('answers are stored with usage, model and finish reason, in WAL mode, and survive reopening', (context) => {
  const file = path.join(temporaryDirectory(context), 'nested', 'cache.sqlite');
  const cache = TeacherCache.open(file);
  cache.put('k1', origin('gpt-4o-mini'), response('one'), 1000);
  cache.put('k1', origin('gpt-4o-mini'), response('second writer loses'), 2000);
  cache.close();
  const reopened = TeacherCache.open(file);
  assert.deepEqual(reopened.get('k1'), { response: response('one'), createdAt: 1000 });
  assert.equal(reopened.get('missing'), null);
  reopened.close();
});

test('answers committed in one turn share a transaction; each is readable by another connection once its commit resolves; close commits what is pending', async (context) => {
  const file = path.join(temporaryDirectory(context), 'cache.sqlite');
  const cache = TeacherCache.open(file);
  const reader = TeacherCache.open(file);
  context.after(() => {
    cache.close();
    reader.close();
  });
  const commits = ['g1', 'g2', 'g3'].map((key) => cache.commit(key, origin('gpt-4o-mini'), response(key), 1000));
  // Not yet: the transaction runs once the event loop has handled this turn.
  assert.equal(reader.get('g1'), null);
  await Promise.all(commits);
  assert.deepEqual(
    ['g1', 'g2', 'g3'].map((key) => reader.get(key)?.response.text),
    ['g1', 'g2', 'g3'],
  );
  // The first answer stored for a key still wins, within a batch as across batches.
  await Promise.all([
    cache.commit('g1', origin('gpt-4o-mini'), response('second writer loses'), 2000),
    cache.commit('g4', origin('gpt-4o-mini'), response('g4'), 2000),
  ]);
  assert.deepEqual([reader.get('g1')?.response.text, reader.get('g4')?.response.text], ['g1', 'g4']);

  const pending = cache.commit('g5', origin('gpt-4o-mini'), response('g5'), 3000);
  cache.close();
  await pending;
  assert.equal(reader.get('g5')?.response.text, 'g5');
});

test('statistics by model, and clear by age and by model', (context) => {
  const cache = TeacherCache.open(path.join(temporaryDirectory(context), 'cache.sqlite'));
  context.after(() => cache.close());
  const now = 100 * day;
  cache.put('old-mini', origin('gpt-4o-mini'), response('a'), now - 40 * day);
  cache.put('new-mini', origin('gpt-4o-mini'), response('b'), now - 1 * day);
  cache.put('new-4o', origin('gpt-4o'), response('c'), now - 1 * day);
  const statistics = cache.statistics();
  assert.equal(statistics.entries, 3);
  assert.deepEqual(
    statistics.byModel.map((row) => [row.model, row.entries, row.promptTokens]),
    [
      ['gpt-4o', 1, 10],
      ['gpt-4o-mini', 2, 20],
    ],
  );
  assert.ok(statistics.sizeBytes > 0);
  assert.equal(cache.clear({ olderThanDays: 30 }, now), 1);
  assert.equal(cache.get('old-mini'), null);
  assert.equal(cache.clear({ model: 'gpt-4o' }, now), 1);
  assert.deepEqual(
    cache.statistics().byModel.map((row) => row.model),
    ['gpt-4o-mini'],
  );
  assert.equal(cache.clear({}, now), 1);
  assert.equal(cache.statistics().entries, 0);
});

test('the key covers plugin, version, model, messages and options, but not the example id', () => {
  const base = {
    pluginId: 'openai',
    pluginVersion: '1.0.0',
    model: 'gpt-4o-mini',
    messages: [{ role: 'user' as const, content: 'q' }],
    requestOptions: { temperature: 0 },
  };
  const key = teacherCacheKey(base);
  assert.equal(teacherCacheKey({ ...base, requestOptions: { temperature: 0 } }), key);
  for (const changed of [
    { pluginVersion: '1.0.1' },
    { model: 'gpt-4o' },
    { requestOptions: { temperature: 1 } },
    { messages: [{ role: 'user' as const, content: 'q2' }] },
  ]) {
    assert.notEqual(teacherCacheKey({ ...base, ...changed }), key);
  }
});

test('cache location: pipeline path, then DISTILL_CACHE_DIR, then XDG_CACHE_HOME, then ~/.cache', () => {
  const environment = { DISTILL_CACHE_DIR: '/d', XDG_CACHE_HOME: '/x', HOME: '/home/u' };
  assert.equal(resolveCachePath({ configuredPath: 'c.sqlite', baseDirectory: '/p', environment }), '/p/c.sqlite');
  assert.equal(resolveCachePath({ environment }), '/d/teacher-cache.sqlite');
  assert.equal(resolveCachePath({ environment: { XDG_CACHE_HOME: '/x', HOME: '/home/u' } }), '/x/distill/teacher-cache.sqlite');
  assert.equal(resolveCachePath({ environment: { HOME: '/home/u' } }), '/home/u/.cache/distill/teacher-cache.sqlite');
});

/** Asserts that `open` throws a {@link TeacherCacheError} (a UserError) with this code, naming the file, with this fix. */
function assertCacheError(open: () => unknown, file: string, code: RegExp, fix: RegExp): void {
  assert.throws(open, (error: unknown) => {
    assert.ok(error instanceof TeacherCacheError && isUserError(error), String(error));
    assert.match(error.code, code);
    assert.ok(error.message.includes(file), error.message);
    assert.match(error.problems[0]?.fix ?? '', fix);
    return true;
  });
}

test('a file that is not a database, a truncated cache, a 0-byte file and a folder are UserErrors naming the path and the fix, at open', (context) => {
  const directory = temporaryDirectory(context);
  const { truncated, garbage, empty } = writeUnreadableCaches(directory);
  const folder = path.join(directory, 'folder.sqlite');
  mkdirSync(folder);

  assertCacheError(() => TeacherCache.open(garbage), garbage, /^SQLITE_NOTADB$/, /distill cache repair --path .*garbage\.sqlite/);
  assertCacheError(
    () => TeacherCache.open(truncated),
    truncated,
    /^SQLITE_CORRUPT/,
    /distill cache check --path .*truncated\.sqlite.*distill cache repair/,
  );
  assertCacheError(
    () => TeacherCache.open(empty),
    empty,
    /^CACHE_EMPTY$/,
    /restore it from a backup; or delete it to start an empty cache/,
  );
  assertCacheError(() => TeacherCache.open(folder), folder, /^CACHE_NOT_A_FILE$/, /move it away/);
  // The empty file was reported, not quietly made into a new cache.
  assert.equal(statSync(empty).size, 0);
});

test('a cache damaged in the middle still opens; reading a damaged answer later is a UserError with the path, the others are still served', (context) => {
  const file = path.join(temporaryDirectory(context), 'cache.sqlite');
  const keys = writeRealCache(file, 300);
  damageMiddle(file);
  const cache = TeacherCache.open(file);
  context.after(() => cache.close());
  let failures = 0;
  let served = 0;
  for (const key of keys) {
    try {
      if (cache.get(key)?.response.text.includes(`for ${key}.`)) served++;
    } catch (error) {
      failures++;
      assert.ok(error instanceof TeacherCacheError && isUserError(error), String(error));
      assert.equal(error.code, 'SQLITE_CORRUPT');
      assert.ok(error.message.includes(file), error.message);
      assert.match(error.problems[0]?.fix ?? '', /distill cache repair/);
    }
  }
  assert.ok(failures > 0, 'the damage hit no answer: the test proves nothing');
  assert.equal(served + failures, keys.length);
});

test('a failed group commit rejects each answer of the transaction with a UserError whose code says why (a full disk); nothing of it is stored', async (context) => {
  const cache = TeacherCache.open(path.join(temporaryDirectory(context), 'cache.sqlite'));
  context.after(() => cache.close());
  // SQLite's own size limit fails a write with the same SQLITE_FULL as a full disk, without filling one.
  const database = (cache as unknown as { database: Database.Database }).database;
  const limit = database.pragma('page_count', { simple: true }) as number;
  database.pragma(`max_page_count = ${limit}`);
  const big = (key: string) => ({ ...response(key.repeat(1000)) });
  const results = await Promise.allSettled(['f1', 'f2', 'f3'].map((key) => cache.commit(key, origin('gpt-4o-mini'), big(key), 1000)));
  for (const result of results) {
    assert.equal(result.status, 'rejected');
    const reason: unknown = result.reason;
    assert.ok(reason instanceof TeacherCacheError && isUserError(reason), String(reason));
    assert.equal(reason.code, 'SQLITE_FULL');
    assert.match(reason.message, /the disk holding the teacher cache at .*cache\.sqlite is full/);
  }
  assert.equal(cache.get('f1'), null);
  database.pragma('max_page_count = 1000000');
  await cache.commit('f1', origin('gpt-4o-mini'), big('f1'), 2000);
  assert.equal(cache.get('f1')?.createdAt, 2000);
});

test('a cache deleted while in use, its log left behind, is reported rather than replayed into a new cache', (context) => {
  const file = path.join(temporaryDirectory(context), 'cache.sqlite');
  const cache = TeacherCache.open(file);
  cache.put('k1', origin('gpt-4o-mini'), response('one'), 1000);
  // The answer is in the log until the last connection closes; the file goes from under it.
  rmSync(file);
  assertCacheError(
    () => TeacherCache.open(file),
    file,
    /^CACHE_ORPHAN_LOG$/,
    /put the cache file back beside it; or move .*cache\.sqlite-wal and .*cache\.sqlite-shm away/,
  );
  cache.close();
});

const teacherCacheModule = new URL('../../../core/teacher/teacher-cache.js', import.meta.url).href;

/** Runs an ES module script in a child `node` with `argument` as `process.argv[1]`. */
function runScript(script: string, argument: string) {
  return spawn(process.execPath, ['--input-type=module', '-e', script, argument], { stdio: ['ignore', 'pipe', 'pipe'] });
}

test('a new cache file appears whole: processes killed while creating caches leave each one absent or complete, never 0 bytes', async (context) => {
  const creator = `import { TeacherCache } from ${JSON.stringify(teacherCacheModule)};
    for (let index = 0; ; index++) TeacherCache.open(process.argv[1] + '/cache-' + index + '.sqlite').close();`;
  const root = temporaryDirectory(context);
  let created = 0;
  // Without the atomic creation, about one kill in five lands between SQLite creating the file and
  // writing its first page.
  for (let round = 0; round < 12; round++) {
    const directory = mkdtempSync(path.join(root, 'round-'));
    const child = runScript(creator, directory);
    const exited = new Promise((resolve) => child.on('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 250 + Math.random() * 250));
    child.kill('SIGKILL');
    await exited;
    const caches = readdirSync(directory).filter((name) => /^cache-\d+\.sqlite$/.test(name));
    created += caches.length;
    for (const name of caches) assert.ok(statSync(path.join(directory, name)).size > 0, `${name} of round ${round} is empty`);
    const newest = caches.sort((first, second) => Number(first.match(/\d+/)![0]) - Number(second.match(/\d+/)![0])).at(-1);
    if (newest) TeacherCache.open(path.join(directory, newest)).close();
  }
  assert.ok(created > 12, `the children created only ${created} caches: killed before they started?`);
});

test('processes creating the same new cache at once all use one file: every answer is in it', async (context) => {
  const file = path.join(temporaryDirectory(context), 'nested', 'cache.sqlite');
  const writer = (index: number) => `import { TeacherCache } from ${JSON.stringify(teacherCacheModule)};
    const cache = TeacherCache.open(process.argv[1]);
    cache.put('p${index}', { pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model: 'm' }, { text: 'from ${index}', usage: { promptTokens: 1, completionTokens: 1 }, model: 'm', finishReason: 'stop' }, 1);
    cache.close();`;
  const children = [0, 1, 2, 3].map((index) => runScript(writer(index), file));
  const codes = await Promise.all(children.map((child) => new Promise((resolve) => child.on('close', resolve))));
  assert.deepEqual(codes, [0, 0, 0, 0]);
  const cache = TeacherCache.open(file);
  context.after(() => cache.close());
  assert.deepEqual(
    [0, 1, 2, 3].map((index) => cache.get(`p${index}`)?.response.text),
    ['from 0', 'from 1', 'from 2', 'from 3'],
  );
  assert.deepEqual(readdirSync(path.dirname(file)).sort(), ['cache.sqlite', 'cache.sqlite-shm', 'cache.sqlite-wal']);
});
