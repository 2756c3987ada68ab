import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import type { TeacherResponse } from '../../../core/plugins/kinds/teacher.js';
import { checkCache, repairCache } from '../../../core/teacher/cache-maintenance.js';
import { importSpilledAnswers, spillAnswer } from '../../../core/teacher/cache-spill.js';
import { TeacherCache, type CacheEntryOrigin } from '../../../core/teacher/teacher-cache.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

const origin: CacheEntryOrigin = { pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model: 'gpt-4o-mini' };
const withLogprobs: TeacherResponse = {
  text: 'Answer: yes',
  usage: { promptTokens: 9, completionTokens: 3 },
  model: 'gpt-4o-mini-2024-07-18',
  finishReason: 'stop',
  tokenLogprobs: [
    { token: 'Answer', logprob: -0.01 },
    { token: ':', logprob: 0 },
    { token: ' yes', logprob: -0.31725305 },
  ],
};

/** A cache file as distill wrote it before the log-probabilities column, with one answer. */
function writeOldCache(file: string): void {
  const database = new Database(file);
  database.pragma('journal_mode = WAL');
  database.exec(`
    CREATE TABLE answers (
      key TEXT PRIMARY KEY, plugin_id TEXT NOT NULL, plugin_version TEXT NOT NULL, provider TEXT NOT NULL,
      model TEXT NOT NULL, response_model TEXT NOT NULL, text TEXT NOT NULL, prompt_tokens INTEGER NOT NULL,
      completion_tokens INTEGER NOT NULL, finish_reason TEXT, created_at INTEGER NOT NULL
    );
    CREATE INDEX answers_model ON answers (provider, model);
    CREATE INDEX answers_created_at ON answers (created_at);
  `);
  database
    .prepare('INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run('old', 'openai', '1.0.0', 'openai', 'gpt-4o-mini', 'gpt-4o-mini', 'Answer: no', 5, 2, 'stop', 1_700_000_000_000);
  database.close();
}

test('token log-probabilities are stored with the answer and read back as they were', (context) => {
  const cache = TeacherCache.open(path.join(temporaryDirectory(context), 'cache.sqlite'));
  context.after(() => cache.close());
  cache.put('with', origin, withLogprobs, 1);
  const without: TeacherResponse = { text: 'Answer: no', usage: withLogprobs.usage, model: withLogprobs.model, finishReason: 'stop' };
  cache.put('without', origin, without, 2);
  assert.deepEqual(cache.get('with')?.response, withLogprobs);
  assert.deepEqual(cache.get('without')?.response, without);
});

test('a cache made before the column gets it on open: its answers stay, new ones keep their log-probabilities', (context) => {
  const file = path.join(temporaryDirectory(context), 'old.sqlite');
  writeOldCache(file);
  const cache = TeacherCache.open(file);
  assert.deepEqual(cache.get('old')?.response, {
    text: 'Answer: no',
    usage: { promptTokens: 5, completionTokens: 2 },
    model: 'gpt-4o-mini',
    finishReason: 'stop',
  });
  cache.put('new', origin, withLogprobs, 3);
  cache.close();
  const reopened = TeacherCache.open(file);
  assert.deepEqual(reopened.get('new')?.response.tokenLogprobs, withLogprobs.tokenLogprobs);
  assert.equal(reopened.statistics().entries, 2);
  reopened.close();
  assert.equal(checkCache({ path: file, environment: {} }).healthy, true);
});

test('cache repair of a cache made before the column keeps every answer; with the column it keeps the log-probabilities', (context) => {
  const directory = temporaryDirectory(context);
  const old = path.join(directory, 'old.sqlite');
  writeOldCache(old);
  // Repaired as found, without ever being opened by the new code.
  const repairedOld = repairCache({ path: old, environment: {} });
  assert.deepEqual([repairedOld.kept, repairedOld.lost], [1, 0]);
  const reopenedOld = TeacherCache.open(old);
  assert.equal(reopenedOld.get('old')?.response.text, 'Answer: no');
  reopenedOld.close();
  const current = path.join(directory, 'current.sqlite');
  const cache = TeacherCache.open(current);
  cache.put('with', origin, withLogprobs, 1);
  cache.close();
  assert.equal(repairCache({ path: current, environment: {} }).kept, 1);
  const repaired = TeacherCache.open(current);
  assert.deepEqual(repaired.get('with')?.response, withLogprobs);
  repaired.close();
});

test('a spilled answer keeps its log-probabilities into the cache; a spilled line with malformed ones is not imported', (context) => {
  const directory = temporaryDirectory(context);
  const spill = path.join(directory, 'cache-spill.jsonl');
  spillAnswer(spill, { key: 'spilled', origin, response: withLogprobs, createdAt: 5 });
  spillAnswer(spill, { key: 'broken', origin, response: { ...withLogprobs, tokenLogprobs: [{ token: 1 }] as never }, createdAt: 6 });
  const cache = TeacherCache.open(path.join(directory, 'cache.sqlite'));
  context.after(() => cache.close());
  assert.deepEqual(importSpilledAnswers(spill, cache), { imported: 1, unreadable: 1 });
  assert.deepEqual(cache.get('spilled')?.response, withLogprobs);
  assert.equal(cache.get('broken'), null);
});

test('a cache made by an earlier version loses its two secondary indexes when opened (one page less per commit); statistics and clear scan the table', (context) => {
  const file = path.join(temporaryDirectory(context), 'old.sqlite');
  writeOldCache(file);
  const indexesOf = () => {
    const database = new Database(file, { readonly: true });
    try {
      return database.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name").pluck().all();
    } finally {
      database.close();
    }
  };
  assert.deepEqual(indexesOf(), ['answers_created_at', 'answers_model', 'sqlite_autoindex_answers_1']);
  const cache = TeacherCache.open(file);
  cache.put('new', origin, withLogprobs, 1_800_000_000_000);
  assert.deepEqual(
    cache.statistics().byModel.map((row) => [row.model, row.entries]),
    [['gpt-4o-mini', 2]],
  );
  assert.equal(cache.clear({ olderThanDays: 1 }, 1_800_000_000_000), 1);
  assert.equal(cache.get('old'), null);
  assert.equal(cache.get('new')?.createdAt, 1_800_000_000_000);
  cache.close();
  assert.deepEqual(indexesOf(), ['sqlite_autoindex_answers_1']);
});
