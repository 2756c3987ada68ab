import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { TeacherRecord } from '../../core/teacher/teacher-record.js';
import { startProviderServer } from '../support/provider-server.js';
import { killAtRandomPoints } from '../support/random-kills.js';
import { runDistill } from '../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

const examples = 200;
const concurrency = 4;
const kills = 3;
/** An answer sent this long before a kill must have been committed: the child had all that time. */
const graceMilliseconds = 1500;

test(
  'kill -9 of distill teach at random moments loses no paid answer and the final output has every example once',
  { timeout: 180_000 },
  async (context) => {
    const server = await startProviderServer('openai', (request) => ({
      kind: 'answer',
      text: `Answer: yes, because ${request.prompt} has an answer of its own`,
      delayMilliseconds: 10 + Math.floor(Math.random() * 30),
    }));
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: examples, concurrency });
    const files = teachOutputFiles(directory);

    // Each kill after a random number of new answers (so the child is mid-work), plus a random instant.
    const killed = await killAtRandomPoints(
      ['teach', pipeline],
      Array.from({ length: kills }, () => ({ phase: 'answers', calls: () => server.answers.length, between: [5, 39] as const })),
      30,
    );
    // The moment each process was gone: answers the server flushed while it was dying never arrived.
    const killTimes = killed.map((moment) => moment.killedAt);
    const moments = killed.map((moment, round) => `round ${round}: after ${moment.callsBeforeKill} answers`);
    assert.ok(server.answers.length < examples, `the kills came too late to test anything (${moments.join('; ')})`);

    const final = await runDistill(['teach', pipeline, '--json'], {}, 120_000);
    assert.equal(final.code, 0, final.stderr);

    // Every example exactly once in the output.
    assert.ok(existsSync(files.records));
    const records = readFileSync(files.records, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TeacherRecord);
    const ids = records.map((record) => record.id);
    assert.equal(ids.length, examples, moments.join('; '));
    assert.deepEqual(new Set(ids), new Set(Array.from({ length: examples }, (_, index) => `q${index}`)));
    assert.ok(records.every((record) => record.parse_status === 'parsed'));

    // No prompt whose answer was sent well before a kill was asked again…
    for (const prompt of new Set(server.requests.map((request) => request.prompt))) {
      const count = server.countFor(prompt);
      if (count === 1) continue;
      const answeredAt = server.answers.filter((answer) => answer.prompt === prompt).map((answer) => answer.sentAt);
      for (const sentAt of answeredAt.slice(0, -1)) {
        const nextKill = killTimes.find((kill) => kill >= sentAt);
        assert.ok(
          nextKill !== undefined && nextKill - sentAt < graceMilliseconds,
          `"${prompt}" was answered at ${sentAt}, long before the kill at ${nextKill}, and asked again (${moments.join('; ')})`,
        );
      }
    }
    // …and at most the requests in flight at each kill were asked twice.
    assert.ok(server.requests.length <= examples + kills * concurrency, `${server.requests.length} requests for ${examples} prompts`);
  },
);
