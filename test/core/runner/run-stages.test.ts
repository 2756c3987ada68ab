import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { UserError } from '../../../core/errors/user-error.js';
import { runStages } from '../../../core/runner/run-stages.js';
import type { AnyStageDefinition, StageDefinition } from '../../../core/runner/stage-definition.js';
import type { OutputMap } from '../../../core/runner/stage-outputs.js';
import { LocalEventStream } from '../../../core/services/event-stream.js';

/** What the three test stages return. */
interface TestOutputs extends OutputMap {
  readonly dataset: { examples: number };
  readonly teacher: { answers: number };
  readonly trainer: { resumedFrom: string };
}

/** Three stages that write files and count how often they really ran. */
function pipeline(
  options: { alpha: number; failTrainerOnce?: { done: boolean } },
  calls: string[],
): [StageDefinition<'dataset', TestOutputs>, StageDefinition<'teacher', TestOutputs>, StageDefinition<'trainer', TestOutputs>] {
  return [
    {
      name: 'dataset',
      inputs: { file: 'data.jsonl' },
      run(context) {
        calls.push('dataset');
        writeFileSync(path.join(context.stageDirectory, 'examples.txt'), 'a\nb\n');
        return Promise.resolve({ examples: 2 });
      },
    },
    {
      name: 'teacher',
      inputs: { model: 'gpt' },
      run(context) {
        calls.push('teacher');
        const previous = context.upstream.dataset!.output;
        return Promise.resolve({ answers: previous.examples });
      },
    },
    {
      name: 'trainer',
      inputs: { alpha: options.alpha },
      run(context) {
        calls.push('trainer');
        const progress = path.join(context.stageDirectory, 'progress.txt');
        const resumedFrom = existsSync(progress) ? readFileSync(progress, 'utf8') : 'nothing';
        writeFileSync(progress, 'half');
        if (options.failTrainerOnce && !options.failTrainerOnce.done) {
          options.failTrainerOnce.done = true;
          return Promise.reject(new Error('killed'));
        }
        return Promise.resolve({ resumedFrom });
      },
    },
  ];
}

function withRunDirectory(body: (runDirectory: string) => Promise<void>) {
  return async () => {
    const runDirectory = mkdtempSync(path.join(os.tmpdir(), 'distill-stages-'));
    try {
      await body(runDirectory);
    } finally {
      rmSync(runDirectory, { recursive: true, force: true });
    }
  };
}

const run = (stages: AnyStageDefinition<TestOutputs>[], runDirectory: string, extra: Partial<Parameters<typeof runStages>[1]> = {}) =>
  runStages(stages, { runDirectory, events: new LocalEventStream(), signal: new AbortController().signal, ...extra });

test(
  'a second run reuses every stage; changing alpha reruns only the trainer',
  withRunDirectory(async (runDirectory) => {
    const calls: string[] = [];
    await run(pipeline({ alpha: 0.5 }, calls), runDirectory);
    assert.deepEqual(calls, ['dataset', 'teacher', 'trainer']);

    const again = await run(pipeline({ alpha: 0.5 }, calls), runDirectory);
    assert.deepEqual(calls, ['dataset', 'teacher', 'trainer']);
    assert.deepEqual(
      again.map((outcome) => outcome.status),
      ['reused', 'reused', 'reused'],
    );

    const changed = await run(pipeline({ alpha: 0.9 }, calls), runDirectory);
    assert.deepEqual(calls, ['dataset', 'teacher', 'trainer', 'trainer']);
    assert.deepEqual(
      changed.map((outcome) => outcome.status),
      ['reused', 'reused', 'computed'],
    );
    assert.notEqual(changed[2]!.directory, again[2]!.directory, 'a new signature gets its own folder');
  }),
);

test(
  'a stage that died half way runs again in the same folder and finds its partial files',
  withRunDirectory(async (runDirectory) => {
    const calls: string[] = [];
    const flag = { done: false };
    await assert.rejects(run(pipeline({ alpha: 0.5, failTrainerOnce: flag }, calls), runDirectory), /killed/);
    const outcomes = await run(pipeline({ alpha: 0.5, failTrainerOnce: flag }, calls), runDirectory);
    assert.deepEqual(calls, ['dataset', 'teacher', 'trainer', 'trainer']);
    assert.deepEqual(outcomes[2]!.record.output, { resumedFrom: 'half' });
  }),
);

test(
  '--from recomputes that stage and later ones; --only needs stored upstream outputs',
  withRunDirectory(async (runDirectory) => {
    const calls: string[] = [];
    await assert.rejects(run(pipeline({ alpha: 0.5 }, calls), runDirectory, { only: 'trainer' }), (error: unknown) => {
      assert.ok(error instanceof UserError);
      assert.match(error.problems[0]!.message, /the dataset stage has no stored output/);
      return true;
    });
    await run(pipeline({ alpha: 0.5 }, calls), runDirectory);
    calls.length = 0;
    await run(pipeline({ alpha: 0.5 }, calls), runDirectory, { from: 'teacher' });
    assert.deepEqual(calls, ['teacher', 'trainer']);
    calls.length = 0;
    await run(pipeline({ alpha: 0.5 }, calls), runDirectory, { only: 'teacher' });
    assert.deepEqual(calls, ['teacher']);
    await assert.rejects(run(pipeline({ alpha: 0.5 }, calls), runDirectory, { from: 'export' }), /this pipeline has no export stage/);
  }),
);

test(
  '--until stops after a stage; required stored stages are never computed; a stage that stops part way is not stored',
  withRunDirectory(async (runDirectory) => {
    const calls: string[] = [];
    const untilTeacher = await run(pipeline({ alpha: 0.5 }, calls), runDirectory, { until: 'teacher' });
    assert.deepEqual(
      untilTeacher.map((outcome) => `${outcome.stage}:${outcome.status}`),
      ['dataset:computed', 'teacher:computed'],
    );

    const fresh = mkdtempSync(path.join(os.tmpdir(), 'distill-stages-'));
    try {
      await assert.rejects(
        run(pipeline({ alpha: 0.5 }, calls), fresh, { requireStored: { stages: ['teacher'], fix: 'run `distill teach` first' } }),
        (error: unknown) => {
          assert.ok(error instanceof UserError);
          assert.deepEqual(
            [error.problems[0]!.message, error.problems[0]!.fix],
            ['the teacher stage has no stored output for this pipeline', 'run `distill teach` first'],
          );
          return true;
        },
      );
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }

    calls.length = 0;
    const stages = pipeline({ alpha: 0.5 }, calls);
    const partial = { ...stages[2], complete: (output: TestOutputs['trainer']) => output.resumedFrom === 'half' };
    const stopped = await run([stages[0], stages[1], partial], runDirectory, { requireStored: { stages: ['teacher'], fix: '' } });
    assert.deepEqual(
      stopped.map((outcome) => outcome.status),
      ['reused', 'reused', 'stopped'],
    );
    assert.equal(existsSync(path.join(stopped[2]!.directory, 'stage.json')), false, 'no record: the next run resumes it');
    const finished = await run([stages[0], stages[1], partial], runDirectory);
    assert.deepEqual(
      finished.map((outcome) => outcome.status),
      ['reused', 'reused', 'computed'],
    );
    assert.deepEqual(calls, ['trainer', 'trainer']);
  }),
);

test(
  'a partial stage is not stored: later stages run under a signature that names what it lacks, reused while it lacks the same, redone once it is whole',
  withRunDirectory(async (runDirectory) => {
    const calls: string[] = [];
    // The teacher lacks the answers listed in `missing` (null: none).
    let missing: string[] | null = ['q7'];
    interface PartialOutputs extends OutputMap {
      readonly teacher: { failed: string[] | null };
      readonly trainer: { trained: boolean };
    }
    const stages = (): AnyStageDefinition<PartialOutputs>[] => [
      {
        name: 'teacher',
        inputs: { model: 'gpt' },
        run() {
          calls.push('teacher');
          return Promise.resolve({ failed: missing });
        },
        partial: (output) => output.failed,
      },
      {
        name: 'trainer',
        inputs: { alpha: 0.5 },
        run() {
          calls.push('trainer');
          return Promise.resolve({ trained: true });
        },
      },
    ];
    const run = () => runStages(stages(), { runDirectory, events: new LocalEventStream(), signal: new AbortController().signal });

    const first = await run();
    assert.deepEqual(
      first.map((outcome) => outcome.status),
      ['partial', 'computed'],
    );
    assert.equal(existsSync(path.join(first[0]!.directory, 'stage.json')), false, 'a partial stage leaves no record');
    const second = await run();
    assert.deepEqual(
      second.map((outcome) => outcome.status),
      ['partial', 'reused'],
      'the same part missing: the trainer is reused',
    );
    assert.equal(second[1]!.signature, first[1]!.signature);

    missing = ['q8'];
    const third = await run();
    assert.deepEqual(
      third.map((outcome) => outcome.status),
      ['partial', 'computed'],
      'another part missing: other data, so it trains again',
    );
    assert.notEqual(third[1]!.signature, first[1]!.signature);

    missing = null;
    const fourth = await run();
    assert.deepEqual(
      fourth.map((outcome) => outcome.status),
      ['computed', 'computed'],
    );
    assert.ok(existsSync(path.join(fourth[0]!.directory, 'stage.json')));
    const fifth = await run();
    assert.deepEqual(
      fifth.map((outcome) => outcome.status),
      ['reused', 'reused'],
    );
    assert.deepEqual(calls, ['teacher', 'trainer', 'teacher', 'teacher', 'trainer', 'teacher', 'trainer']);
  }),
);
