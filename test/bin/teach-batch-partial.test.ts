import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { TeacherRecord } from '../../core/teacher/teacher-record.js';
import { batchModeSettings } from '../support/random-kills.js';
import { startOpenAiBatchServer } from '../support/openai-batch-server.js';
import { runDistill } from '../support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../support/temporary-directory.js';

const examples = 20;
const promptOf = (index: number) => `Answer yes or no and explain: train question number ${index}`;

test(
  'an expired batch with half its results and a line that failed with a 500: one run resubmits exactly the missing half and the failed line, once each, and answers every example',
  { timeout: 120_000 },
  async (context) => {
    const failedPrompt = promptOf(3);
    const server = await startOpenAiBatchServer({
      // The first time question 3 is in a batch its line fails with a recorded 500; afterwards it is answered.
      script: (line) =>
        line.prompt === failedPrompt && line.submission === 1
          ? { kind: 'error', fixture: 'openai-error-server' }
          : { kind: 'answer', text: 'Answer: yes, because it can be answered' },
      // The first batch expires with only its first half answered; the second completes.
      plan: (batch) =>
        batch.id === server.batches[0]?.id ? { kind: 'expire', answered: examples / 2 } : { kind: 'complete', afterPolls: 1 },
    });
    context.after(() => server.close());
    const directory = temporaryDirectory(context);
    const pipeline = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count: examples });
    const result = await runDistill(['teach', pipeline, ...batchModeSettings(examples), '--json'], {}, 90_000);
    assert.equal(result.code, 0, result.stderr);

    assert.equal(server.submissions, 2);
    const [first, second] = server.batches;
    assert.equal(first!.lines.length, examples);
    // The second batch holds the expired half and the failed line, nothing answered already.
    const answeredFirst = first!.lines
      .slice(0, examples / 2)
      .map((line) => line.prompt)
      .filter((prompt) => prompt !== failedPrompt);
    const expected = new Set([...first!.lines.slice(examples / 2).map((line) => line.prompt), failedPrompt]);
    assert.deepEqual(new Set(second!.lines.map((line) => line.prompt)), expected);
    for (const prompt of answeredFirst) assert.equal(server.timesSubmittedPrompt(prompt), 1, prompt);
    for (const prompt of expected) assert.equal(server.timesSubmittedPrompt(prompt), 2, prompt);

    const records = readFileSync(teachOutputFiles(directory).records, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as TeacherRecord);
    assert.equal(records.length, examples);
    assert.ok(records.every((record) => record.parse_status === 'parsed'));
  },
);
