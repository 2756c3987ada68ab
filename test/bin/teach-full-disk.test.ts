import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import type { TeacherRecord } from '../../core/teacher/teacher-record.js';
import { startProviderServer, type ProviderServer } from '../support/provider-server.js';
import { runDistill } from '../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

// The teacher cache on a disk that fills up, or turns read-only, in the middle of a run: a real
// tmpfs mounted for the test (which needs root; CI runs as root). Every answer the server sent must
// end up in the cache or in the spill file, the run must stop non-zero saying what happened, and
// the next run must import the spilled answers and ask for none of them again.

const examples = 200;
/** Long answers, so that a small disk fills after a few dozen of them. */
const longRationale = `because ${'the number in the question decides it, and nothing else does; '.repeat(30)}`;

function mount(folder: string, options: string): boolean {
  mkdirSync(folder, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', folder]).status === 0;
}

function remount(folder: string, options: string): void {
  const result = spawnSync('mount', ['-o', `remount,${options}`, folder], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

/** Mounts a small tmpfs for the cache (unmounted and removed after the test), or skips the test with the reason. */
function smallDisk(context: TestContext, size: string): string | null {
  const folder = mkdtempSync(path.join(tmpdir(), 'distill-cache-disk-'));
  if (process.getuid?.() !== 0 || !mount(folder, `size=${size}`)) {
    rmSync(folder, { recursive: true, force: true });
    context.skip('mounting a tmpfs needs root: the full-disk test runs in CI (as root) and where tests run as root');
    return null;
  }
  context.after(() => {
    spawnSync('umount', ['-l', folder]);
    rmSync(folder, { recursive: true, force: true });
  });
  return folder;
}

/** Prompts the server finished sending an answer for (paid for). */
function paidPrompts(server: ProviderServer): string[] {
  return server.answers.map((each) => each.prompt);
}

function cachedPromptCount(cacheFile: string): number {
  const database = new Database(cacheFile, { readonly: true });
  try {
    return (database.prepare('SELECT COUNT(*) AS entries FROM answers').get() as { entries: number }).entries;
  } finally {
    database.close();
  }
}

function spilledLines(directory: string): number {
  const spill = path.join(path.dirname(teachOutputFiles(directory).records), 'cache-spill.jsonl');
  return existsSync(spill) ? readFileSync(spill, 'utf8').trim().split('\n').length : 0;
}

async function finishAfterRepair(directory: string, pipeline: string, server: ProviderServer, cacheFile: string): Promise<void> {
  const paidBefore = paidPrompts(server).length;
  const again = await runDistill(['teach', pipeline, '--json'], {}, 120_000);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /"type":"teacher.spill_imported"/);
  const records = readFileSync(teachOutputFiles(directory).records, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as TeacherRecord);
  assert.equal(records.length, examples);
  assert.ok(records.every((record) => record.parse_status === 'parsed'));
  // Each prompt was paid for exactly once across both runs: nothing paid was lost and asked again.
  const paid = paidPrompts(server);
  assert.equal(new Set(paid).size, examples);
  assert.equal(paid.length, examples, `${paid.length} answers paid for ${examples} prompts (${paidBefore} before the repair)`);
  assert.equal(cachedPromptCount(cacheFile), examples, 'every answer is in the cache, the spilled ones imported');
}

test(
  'a full disk during teaching loses no paid answer: they are spilled, the run stops non-zero, the next run imports them',
  { timeout: 180_000 },
  async (context) => {
    const directory = temporaryDirectory(context);
    const disk = smallDisk(context, '160k');
    if (!disk) return;
    const server = await startProviderServer('openai', (request) => ({
      kind: 'answer',
      text: `Answer: yes, ${longRationale} (${request.prompt})`,
      delayMilliseconds: 2,
    }));
    context.after(() => server.close());
    const cacheFile = path.join(disk, 'teacher-cache.sqlite');
    const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: examples, concurrency: 8, cachePath: cacheFile });

    const full = await runDistill(['teach', pipeline], {}, 120_000);
    assert.equal(full.code, 1, full.stdout + full.stderr);
    assert.match(full.stderr, /the teacher cache .* cannot be written \(the disk is full, SQLITE_FULL\)/);
    assert.match(full.stderr, /cache-spill\.jsonl/);
    assert.doesNotMatch(full.stderr, /\n\s+at /);
    const paid = paidPrompts(server).length;
    assert.ok(paid < examples, 'the disk filled before the end');
    const spilled = spilledLines(directory);
    assert.ok(spilled > 0, 'answers were spilled');
    assert.equal(cachedPromptCount(cacheFile) + spilled, paid, 'every paid answer is in the cache or the spill file');

    remount(disk, 'size=64m');
    await finishAfterRepair(directory, pipeline, server, cacheFile);
  },
);
