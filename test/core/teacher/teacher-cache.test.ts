import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { resolveCachePath } from '../../../core/teacher/cache-location.js';
import { teacherCacheKey } from '../../../core/teacher/cache-key.js';
import { TeacherCache } from '../../../core/teacher/teacher-cache.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const day = 86_400_000;
const origin = (model: string) => ({ pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model });
const response = (text: string) => ({ text, usage: { promptTokens: 10, completionTokens: 5 }, model: 'gpt-4o-mini-2024-07-18', finishReason: 'stop' });

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
  assert.deepEqual(['g1', 'g2', 'g3'].map((key) => reader.get(key)?.response.text), ['g1', 'g2', 'g3']);
  // The first answer stored for a key still wins, within a batch as across batches.
  await Promise.all([cache.commit('g1', origin('gpt-4o-mini'), response('second writer loses'), 2000), cache.commit('g4', origin('gpt-4o-mini'), response('g4'), 2000)]);
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
  assert.deepEqual(statistics.byModel.map((row) => [row.model, row.entries, row.promptTokens]), [['gpt-4o', 1, 10], ['gpt-4o-mini', 2, 20]]);
  assert.ok(statistics.sizeBytes > 0);
  assert.equal(cache.clear({ olderThanDays: 30 }, now), 1);
  assert.equal(cache.get('old-mini'), null);
  assert.equal(cache.clear({ model: 'gpt-4o' }, now), 1);
  assert.deepEqual(cache.statistics().byModel.map((row) => row.model), ['gpt-4o-mini']);
  assert.equal(cache.clear({}, now), 1);
  assert.equal(cache.statistics().entries, 0);
});

test('the key covers plugin, version, model, messages and options, but not the example id', () => {
  const base = { pluginId: 'openai', pluginVersion: '1.0.0', model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'q' }], requestOptions: { temperature: 0 } };
  const key = teacherCacheKey(base);
  assert.equal(teacherCacheKey({ ...base, requestOptions: { temperature: 0 } }), key);
  for (const changed of [{ pluginVersion: '1.0.1' }, { model: 'gpt-4o' }, { requestOptions: { temperature: 1 } }, { messages: [{ role: 'user' as const, content: 'q2' }] }]) {
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
