import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { runDistill } from '../../support/run-distill.js';
import path from 'node:path';
import { test } from 'node:test';
import { isUserError } from '../../../core/errors/user-error.js';
import { checkCache, repairCache } from '../../../core/teacher/cache-maintenance.js';
import { TeacherCacheError } from '../../../core/teacher/teacher-cache-error.js';
import { TeacherCache } from '../../../core/teacher/teacher-cache.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { damageMiddle, readableAnswers, truncateToHalf, writeRealCache } from './cache-fixtures.js';

const environment = {};
const repairTime = Date.UTC(2030, 0, 2, 3, 4, 5, 6);
const damagedSuffix = '.damaged-2030-01-02T03-04-05-006Z';

function readableCount(answers: Map<string, unknown>): number {
  return [...answers.values()].filter((answer) => answer !== null).length;
}

test('check: a healthy cache passes with its count; damaged, truncated, empty or missing files are told apart', (context) => {
  const directory = temporaryDirectory(context);
  const healthy = path.join(directory, 'healthy.sqlite');
  const keys = writeRealCache(healthy, 300);
  assert.deepEqual(checkCache({ path: healthy, environment }), {
    file: healthy,
    exists: true,
    healthy: true,
    sizeBytes: checkCache({ path: healthy, environment }).sizeBytes,
    readableAnswers: 300,
    unreadableAnswers: 0,
    problems: [],
    fix: null,
  });

  const damaged = path.join(directory, 'damaged.sqlite');
  copyFileSync(healthy, damaged);
  damageMiddle(damaged);
  const selectable = readableCount(readableAnswers(damaged, keys));
  const damagedVerdict = checkCache({ path: damaged, environment });
  assert.equal(damagedVerdict.healthy, false);
  // SQLite's own findings, naming the damaged pages.
  assert.ok(
    damagedVerdict.problems.some((problem) => /^SQLite integrity check: .*page \d+/.test(problem)),
    damagedVerdict.problems.join('\n'),
  );
  // Rows are read one by one, past the damage: at least every answer a lookup by key still finds.
  assert.ok(
    damagedVerdict.readableAnswers >= selectable && selectable > 0,
    `${damagedVerdict.readableAnswers} readable, ${selectable} by key`,
  );
  assert.ok(damagedVerdict.readableAnswers < 300 && damagedVerdict.unreadableAnswers > 0);
  assert.match(damagedVerdict.fix ?? '', /distill cache repair --path .*damaged\.sqlite/);

  const truncated = path.join(directory, 'truncated.sqlite');
  copyFileSync(healthy, truncated);
  truncateToHalf(truncated);
  const truncatedVerdict = checkCache({ path: truncated, environment });
  assert.equal(truncatedVerdict.healthy, false);
  assert.match(truncatedVerdict.problems[0]!, /damaged.*malformed/);
  // A truncated file is refused whole by a plain open; its first half can still be read.
  assert.ok(truncatedVerdict.readableAnswers > 50 && truncatedVerdict.readableAnswers < 200, String(truncatedVerdict.readableAnswers));

  const empty = path.join(directory, 'empty.sqlite');
  writeFileSync(empty, '');
  const emptyVerdict = checkCache({ path: empty, environment });
  assert.deepEqual([emptyVerdict.healthy, emptyVerdict.readableAnswers], [false, 0]);
  assert.match(emptyVerdict.problems[0]!, /empty \(0 bytes\)/);
  assert.match(emptyVerdict.fix!, /restore it from a backup/);

  const missing = checkCache({ path: path.join(directory, 'missing.sqlite'), environment });
  assert.deepEqual([missing.exists, missing.healthy, missing.readableAnswers], [false, true, 0]);
});

test('repair of a cache damaged in the middle keeps every answer a SELECT could still read, keeps the original beside it, and passes check', (context) => {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'cache.sqlite');
  const keys = writeRealCache(file, 300);
  damageMiddle(file);
  const before = readableAnswers(file, keys);
  assert.ok(readableCount(before) > 0 && readableCount(before) < keys.length, 'the damage must cost some answers and leave others');
  const checkedBefore = checkCache({ path: file, environment });

  const result = repairCache({ path: file, environment }, repairTime);
  assert.equal(result.file, file);
  assert.equal(result.damagedFile, file + damagedSuffix);
  const after = readableAnswers(file, keys);
  for (const [key, answer] of before) if (answer !== null) assert.deepEqual(after.get(key), answer, key);
  assert.equal(result.kept, readableCount(after));
  assert.equal(result.kept, checkedBefore.readableAnswers);
  assert.equal(result.lost, checkedBefore.unreadableAnswers);
  assert.ok(result.lost > 0);

  const checkedAfter = checkCache({ path: file, environment });
  assert.deepEqual([checkedAfter.healthy, checkedAfter.readableAnswers, checkedAfter.problems], [true, result.kept, []]);
  // Who asked for each answer came along too.
  const cache = TeacherCache.open(file);
  assert.deepEqual(
    cache.statistics().byModel.map((row) => [row.provider, row.model, row.entries]),
    [['openai', 'gpt-4o-mini', result.kept]],
  );
  cache.close();
  // The damaged original is kept, still damaged, with the same answers readable.
  const original = checkCache({ path: result.damagedFile, environment });
  assert.deepEqual([original.healthy, original.readableAnswers], [false, checkedBefore.readableAnswers]);
  assert.deepEqual(readdirSync(directory).sort(), ['cache.sqlite', `cache.sqlite${damagedSuffix}`]);
});

test('repair of a truncated cache keeps its readable first half; repair of a healthy cache keeps every answer', (context) => {
  const directory = temporaryDirectory(context);
  const healthy = path.join(directory, 'healthy.sqlite');
  const keys = writeRealCache(healthy, 300);
  const answers = readableAnswers(healthy, keys);

  const truncated = path.join(directory, 'truncated.sqlite');
  copyFileSync(healthy, truncated);
  truncateToHalf(truncated);
  const readable = checkCache({ path: truncated, environment }).readableAnswers;
  const repaired = repairCache({ path: truncated, environment }, repairTime);
  assert.equal(repaired.kept, readable);
  assert.ok(repaired.kept > 50, String(repaired.kept));
  const kept = readableAnswers(truncated, keys);
  assert.equal(readableCount(kept), repaired.kept);
  for (const [key, answer] of kept) if (answer !== null) assert.deepEqual(answer, answers.get(key));
  assert.equal(checkCache({ path: truncated, environment }).healthy, true);

  const result = repairCache({ path: healthy, environment }, repairTime);
  assert.deepEqual([result.kept, result.lost], [300, 0]);
  assert.deepEqual(readableAnswers(healthy, keys), answers);
  assert.deepEqual(readableAnswers(result.damagedFile, keys), answers);
});

test('repair refuses while another process has the cache open, even idle, and changes nothing', async (context) => {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'cache.sqlite');
  const keys = writeRealCache(file, 20);
  const module = new URL('../../../core/teacher/teacher-cache.js', import.meta.url).href;
  const holder = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { TeacherCache } from ${JSON.stringify(module)}; TeacherCache.open(process.argv[1]); console.log('open'); setInterval(() => {}, 1000);`,
      file,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const exited = new Promise((resolve) => holder.on('close', resolve));
  context.after(() => holder.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
    holder.on('close', () => reject(new Error('the holder ended before opening the cache')));
  });

  assert.throws(
    () => repairCache({ path: file, environment }, repairTime),
    (error: unknown) => {
      assert.ok(error instanceof TeacherCacheError && isUserError(error), String(error));
      assert.match(error.code, /^SQLITE_BUSY/);
      assert.match(error.message, /another process is using the teacher cache at .*cache\.sqlite/);
      return true;
    },
  );
  assert.ok(
    readdirSync(directory).every((name) => !/damaged|repairing|creating/.test(name)),
    readdirSync(directory).join(', '),
  );
  assert.equal(existsSync(file + damagedSuffix), false);

  holder.kill('SIGKILL');
  await exited;
  // Killed, it left its log behind; the repair now runs and keeps everything.
  assert.deepEqual([repairCache({ path: file, environment }, repairTime).kept, readableCount(readableAnswers(file, keys))], [20, 20]);
});

test('repair of a 0-byte file or a missing one is refused with what to do instead', (context) => {
  const directory = temporaryDirectory(context);
  const empty = path.join(directory, 'empty.sqlite');
  writeFileSync(empty, '');
  assert.throws(
    () => repairCache({ path: empty, environment }),
    (error: unknown) => error instanceof TeacherCacheError && error.code === 'CACHE_EMPTY',
  );
  assert.throws(
    () => repairCache({ path: path.join(directory, 'missing.sqlite'), environment }),
    (error: unknown) => isUserError(error) && /nothing to repair/.test(error.message),
  );
  assert.deepEqual(readdirSync(directory), ['empty.sqlite']);
});

test('a process that opens the cache while a repair holds it waits, then writes into the repaired file, not the old one', async (context) => {
  const directory = temporaryDirectory(context);
  const file = path.join(directory, 'cache.sqlite');
  // Big enough for the repair to hold the cache for a second or so, while the other process starts.
  const count = 60_000;
  const cache = TeacherCache.open(file);
  const origin = { pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model: 'gpt-4o-mini' };
  cache.putAll(
    Array.from({ length: count }, (_, index) => ({
      key: `k${index}`,
      origin,
      response: { text: `answer ${index}`, usage: { promptTokens: 1, completionTokens: 1 }, model: 'm', finishReason: 'stop' },
      createdAt: 1 + index,
    })),
  );
  cache.close();

  const repair = runDistill(['cache', 'repair', '--path', file, '--json']);
  // The repair's new file appears once it holds the lock on the old one.
  const deadline = Date.now() + 30_000;
  while (!readdirSync(directory).some((name) => name.includes('.repairing-')) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 5));
  const module = new URL('../../../core/teacher/teacher-cache.js', import.meta.url).href;
  const late = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `import { TeacherCache } from ${JSON.stringify(module)};
       const started = Date.now();
       const cache = TeacherCache.open(process.argv[1]);
       const waited = Date.now() - started;
       cache.put('late', ${JSON.stringify(origin)}, { text: 'late answer', usage: { promptTokens: 1, completionTokens: 1 }, model: 'm', finishReason: 'stop' }, 1);
       cache.close();
       console.log(JSON.stringify({ waited }));`,
      file,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  late.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const lateCode = await new Promise((resolve) => late.on('close', resolve));
  const repaired = await repair;
  assert.equal(repaired.code, 0, repaired.stderr);
  assert.equal(lateCode, 0);
  const { waited } = JSON.parse(output) as { waited: number };
  assert.ok(waited > 100, `the late process did not wait for the repair (${waited} ms): the test proves nothing`);

  const { kept, damagedFile } = JSON.parse(repaired.stdout) as { kept: number; damagedFile: string };
  assert.equal(kept, count);
  const now = TeacherCache.open(file);
  assert.deepEqual([now.get('late')?.response.text, now.statistics().entries], ['late answer', count + 1]);
  now.close();
  const old = TeacherCache.open(damagedFile);
  assert.deepEqual([old.get('late'), old.statistics().entries], [null, count]);
  old.close();
  assert.equal(checkCache({ path: file, environment }).healthy, true);
});
