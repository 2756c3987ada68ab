import { setMaxListeners } from 'node:events';
import path from 'node:path';
import type { Price, TeacherStep } from '../config/pipeline-config.js';
import { didYouMeanPhrase } from '../errors/did-you-mean.js';
import { UserError } from '../errors/user-error.js';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import type { Dataset, DatasetExample } from '../plugins/kinds/dataset.js';
import type { Parser } from '../plugins/kinds/parser.js';
import type { Prompt } from '../plugins/kinds/prompt.js';
import type { Teacher } from '../plugins/kinds/teacher.js';
import type { Clock } from '../services/clock.js';
import type { EventStream } from '../services/event-stream.js';
import type { HttpSettings } from '../services/http-settings.js';
import { askSamples, checkSampling } from './ask-samples.js';
import { runBatchTeach } from './batch/batch-teach.js';
import { inBoundedWindow } from './bounded-window.js';
import { cacheSpillFile, importSpilledAnswers, spillAnswer, type SpilledAnswer } from './cache-spill.js';
import { findBatchPrice, findPrice } from './price-table.js';
import { RequestEngine, type EngineLimits } from './request-engine.js';
import { TeachBudget } from './teach-budget.js';
import { TeachRun } from './teach-run.js';
import type { TeacherCache } from './teacher-cache.js';
import { readExistingOutput, recordKey, TeacherOutputWriter } from './teacher-output.js';
import { teacherRecordFor } from './teacher-record-for.js';
import type { TeacherReport } from './teacher-report.js';

/** One split to label, with an optional cap on the number of examples (the pipeline's `dataset.limit`). */
export interface TeachSplit {
  readonly split: string;
  readonly limit?: number;
}

/** Everything the teach stage works with: plugin instances and settings, no configuration loading. */
export interface TeachStageInput {
  readonly dataset: Dataset;
  readonly prompt: Prompt;
  readonly parser: Parser;
  readonly teacher: Teacher;
  /** Teacher plugin id and version: in every cache key and in the report. */
  readonly teacherPluginId: string;
  readonly teacherPluginVersion: string;
  readonly splits: readonly TeachSplit[];
  readonly limits: EngineLimits;
  readonly budget?: { readonly max_usd?: number; readonly max_requests?: number };
  /** The pipeline's price overrides, keyed `provider/model`. */
  readonly prices?: Readonly<Record<string, Price>>;
  /** Null to bypass the cache (`cache.enabled: false`). */
  readonly cache: TeacherCache | null;
  /** The JSONL of {@link TeacherRecord}s; appended to, and resumed from. */
  readonly outputFile: string;
  /** Where the report goes; defaults to `teacher-report.json` beside the output. */
  readonly reportFile?: string;
  /**
   * Share of the examples that may end failed (no answer after every retry) for the stage to count
   * as done (`teacher.max_failure_rate`, default 0); above it the report says `stopped: "failures"`.
   * Failed examples are asked again by the next run either way.
   */
  readonly maxFailureRate?: number;
  /**
   * Answers asked per example (`teacher.samples`, default 1), combined by {@link teacherRecordFor};
   * above 1 the teacher must be able to sample (`Teacher.samplingRefusal`), checked before any request.
   */
  readonly samples?: number;
  readonly events: EventStream;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly httpSettings: HttpSettings;
  readonly timeoutMilliseconds?: number;
  /** Jitter source for backoff (tests fix it). */
  readonly random?: () => number;
  /** Compares a teacher label with gold for the report's accuracy (e.g. the pipeline's evaluator). */
  readonly labelsMatch?: (predicted: string, gold: string) => boolean;
  /** `teacher.mode`: `realtime` (default) asks through the request engine, `batch` through the teacher's batch API. */
  readonly mode?: TeacherStep['mode'];
  /** `teacher.batch`: polling and batch size settings of batch mode (defaults: 30 s doubling up to 600 s). */
  readonly batch?: TeacherStep['batch'];
}

/** Fails before any call when the prompt uses a field the dataset does not have, or a split is unknown. */
function checkInputs(input: TeachStageInput): void {
  const problems = input.prompt.placeholders
    .filter((placeholder) => !input.dataset.fields.includes(placeholder))
    .map((placeholder) => ({
      message: `the prompt uses {${placeholder}}, which is not a field of the dataset`,
      pointer: '/prompt',
      fix: `${didYouMeanPhrase(placeholder, input.dataset.fields)}fields of the dataset: ${input.dataset.fields.join(', ')}`,
    }));
  for (const { split } of input.splits) {
    if (!input.dataset.splits.includes(split)) {
      problems.push({
        message: `the dataset has no split "${split}"`,
        pointer: '/dataset/splits',
        fix: `${didYouMeanPhrase(split, input.dataset.splits)}splits of the dataset: ${input.dataset.splits.join(', ')}`,
      });
    }
  }
  if (input.mode === 'batch') problems.push(...batchProblems(input));
  if (problems.length > 0) throw new UserError(problems);
  checkSampling(input.teacher, input.teacherPluginId, input.samples ?? 1);
}

/** What keeps batch mode from running: a teacher without a batch API, or no cache to keep the batch ids in. */
function batchProblems(input: TeachStageInput): { message: string; pointer: string; plugin?: string; fix: string }[] {
  const problems = [];
  if (!input.teacher.batch) {
    problems.push({
      message: `the teacher plugin "${input.teacherPluginId}" offers no batch API, so teacher.mode cannot be batch`,
      pointer: '/teacher/mode',
      plugin: `teacher/${input.teacherPluginId}`,
      fix: 'set teacher.mode: realtime (or leave it out), or use a teacher that offers batch mode (openai, anthropic)',
    });
  }
  // A teacher whose answers need no cache (recordings) has no batch API either: the problem above says so.
  if (!input.cache && input.teacher.cacheable) {
    problems.push({
      message:
        'teacher.mode: batch needs the teacher cache: the ids of submitted batches are kept in its database, so that a stopped run collects them rather than paying twice',
      pointer: '/cache/enabled',
      fix: 'set cache.enabled: true (the default), or teacher.mode: realtime',
    });
  }
  return problems;
}

async function* examplesOf(dataset: Dataset, splits: readonly TeachSplit[]): AsyncGenerator<DatasetExample> {
  for (const { split, limit } of splits) {
    let taken = 0;
    for await (const example of dataset.read(split)) {
      if (limit !== undefined && taken >= limit) break;
      taken++;
      yield example;
    }
  }
}

/** How many examples {@link examplesOf} yields, counted without holding them. */
async function countExamples(dataset: Dataset, splits: readonly TeachSplit[]): Promise<number> {
  const examples = examplesOf(dataset, splits);
  let count = 0;
  while (!(await examples.next()).done) count++;
  return count;
}

/** The user error that stops a stage whose cache cannot be written; the answers are in the spill file. */
function cacheWriteStop(error: unknown, cacheFile: string, spillFile: string): UserError {
  const code = (error as { code?: unknown }).code;
  const why =
    code === 'SQLITE_FULL'
      ? 'the disk is full'
      : typeof code === 'string' && code.startsWith('SQLITE_READONLY')
        ? 'it is read-only'
        : (error as Error).message;
  return new UserError({
    message: `the teacher cache ${cacheFile} cannot be written (${why}${typeof code === 'string' ? `, ${code}` : ''}): the answers received since are kept in ${spillFile}, and the next run imports them before it asks anything`,
    fix: 'free disk space (or make the cache writable, or point cache.path / DISTILL_CACHE_DIR at another disk) and run the same command again: no answer paid for is asked again',
  });
}

/**
 * The teacher stage: for every example of the given splits, render the prompt, ask the teacher
 * through the {@link RequestEngine}, parse the answer and append one {@link TeacherRecord} line to
 * the output as soon as it is known. Examples already in the output are skipped, so a killed or
 * stopped run resumes where it was; answers paid for before a kill come from the cache.
 *
 * Failures: an example with no answer after every retry gets a `failed` record, which the next run
 * drops and asks again. When failed examples are more than `maxFailureRate` of the examples, the
 * report says `stopped: "failures"`. Refusals that repeat, a rejected key or an unknown model stop
 * the stage with a {@link UserError} once the requests in flight have ended.
 *
 * Stopping (the signal): no new request is sent; requests in flight are awaited (bounded by their
 * timeout) and their answers written, then the report says `stopped: "cancelled"`.
 *
 * A cache that cannot be written (a full disk, a read-only file): each answer it refuses is appended
 * to `cache-spill.jsonl` beside the output before it is used, the stage stops with a
 * {@link UserError} once the requests in flight have ended, and the next run imports the spill file
 * into the cache before it asks anything.
 *
 * Budget: `max_usd` and `max_requests` count what the records of the output file paid, across
 * resumed runs, so a budget caps the stage, not one invocation (a request and its retries count as
 * one request; dollars are known only when an answer arrives, so requests already in flight when
 * the limit is crossed may add up to `concurrency - 1` answers more). When it is reached no new paid
 * request starts; requests in flight finish and are written, cached answers are still used, and the
 * report says `stopped: "budget"`. Raising the budget and running again continues from there.
 *
 * Events: `teacher.start`, `teacher.request` (a paid answer), `teacher.cached`, `teacher.failed`,
 * `teacher.retry` (from the engine), `teacher.progress` after every example, `teacher.done`.
 */
export async function runTeachStage(input: TeachStageInput): Promise<TeacherReport> {
  checkInputs(input);
  const { teacher, events, clock } = input;
  const stageAbort = new AbortController();
  const signal = AbortSignal.any([input.signal, stageAbort.signal]);
  // Each example of the window listens on this signal while it waits for a slot, a rate-limit turn or
  // a backoff; every one of those removes its listener when it settles, so the count is bounded by
  // the window, but above Node's default warning threshold of 10.
  setMaxListeners(Math.max(64, input.limits.concurrency * 16), signal);
  // Batch answers are paid at the batch price, and so are their records and the budget's estimates.
  const price = input.mode === 'batch' ? findBatchPrice(teacher, input.prices) : findPrice(teacher, input.prices);
  const budget = new TeachBudget(input.budget ?? {}, price, input.mode !== 'batch' && teacher.samplesShareOnePrompt === true);
  const run = new TeachRun(
    input.splits.map((each) => each.split),
    input.labelsMatch,
    budget,
    events,
    clock,
  );
  const existing = await readExistingOutput(input.outputFile, (record) => run.resumed(record));
  const spillFile = path.join(path.dirname(input.outputFile), cacheSpillFile);
  importSpill(input, spillFile);
  run.total = await countExamples(input.dataset, input.splits);
  const stop = (error: unknown) => {
    run.fatal ??= { error };
    stageAbort.abort(run.fatal.error);
  };
  const engine = await teachEngine(input, budget, { spillFile, stop });
  events.emit('teacher.start', {
    total: run.total,
    resumed: existing.records,
    dropped: existing.dropped,
    provider: teacher.provider,
    model: teacher.model,
  });
  run.progress();
  if (input.mode === 'batch') return teachInBatches(input, run, engine, existing.keys, { spillFile, signal, stop });
  const writer = new TeacherOutputWriter(input.outputFile);
  try {
    // Enough examples in flight to fill the engine, never the whole dataset.
    await inBoundedWindow(
      examplesToAsk(input, existing.keys),
      Math.max(2, input.limits.concurrency * 2),
      () => signal.aborted,
      async (example) => {
        try {
          const outcomes = await askSamples(
            engine,
            { exampleId: example.id, split: example.split, messages: input.prompt.render(example) },
            input.samples ?? 1,
            signal,
          );
          run.write(
            writer,
            example,
            outcomes,
            teacherRecordFor(example, outcomes, input, (usage) => budget.costOf(usage)),
          );
        } catch (error) {
          // A stop is no failure; a user error (bad key, unknown model) fails every request alike: stop the others now.
          if (!(signal.aborted && run.fatal === null)) stop(error);
        } finally {
          run.progress();
        }
      },
    );
  } finally {
    writer.close();
  }
  if (run.fatal) throw run.fatal.error;
  return finishTeachStage(input, run);
}

/**
 * Batch mode (`teacher.mode: batch`): the examples through the teacher's batch API (see
 * {@link runBatchTeach}); the engine serves only its cache keys, so batch and real-time answers share them.
 */
async function teachInBatches(
  input: TeachStageInput,
  run: TeachRun,
  engine: RequestEngine,
  done: Set<string>,
  stage: { spillFile: string; signal: AbortSignal; stop: (error: unknown) => void },
): Promise<TeacherReport> {
  const { signal, stop } = stage;
  const writer = new TeacherOutputWriter(input.outputFile);
  try {
    await runBatchTeach({
      input,
      run,
      writer,
      examples: examplesToAsk(input, done),
      keyOf: (request) => engine.keyOf(request),
      signal,
      onUncommitted: (answer, error) => stop(spillOrLose(answer, error, input.cache?.file ?? '', stage.spillFile)),
    });
  } catch (error) {
    // A stop is no failure: the batches still running are collected by the next run.
    if (!(signal.aborted && run.fatal === null)) stop(error);
  } finally {
    writer.close();
  }
  if (run.fatal) throw run.fatal.error;
  return finishTeachStage(input, run);
}

/** The examples of the asked splits that the output does not hold yet. */
async function* examplesToAsk(input: TeachStageInput, done: Set<string>): AsyncGenerator<DatasetExample> {
  for await (const example of examplesOf(input.dataset, input.splits)) {
    const key = recordKey(example.split, example.id);
    if (done.has(key)) continue;
    done.add(key);
    yield example;
  }
}

/** Imports the answers an earlier run could not commit to the cache, before anything is asked. */
function importSpill(input: TeachStageInput, spillFile: string): void {
  if (!input.cache) return;
  const imported = importSpilledAnswers(spillFile, input.cache);
  if (imported)
    input.events.emit('teacher.spill_imported', { file: spillFile, answers: imported.imported, unreadable_lines: imported.unreadable });
}

/** The request engine of a teach stage: the budget admits and pays, a cache that cannot be written spills and stops. */
async function teachEngine(
  input: TeachStageInput,
  budget: TeachBudget,
  failure: { spillFile: string; stop: (error: unknown) => void },
): Promise<RequestEngine> {
  const { teacher } = input;
  // Only a tokens-per-minute limit needs counts before the call; loading a tokenizer is not free.
  // A teacher without a counter is limited by the usage its answers report (see `Teacher.tokenCounter`).
  const tokenCounter = input.limits.tokensPerMinute !== undefined ? ((await teacher.tokenCounter?.()) ?? null) : null;
  return new RequestEngine({
    teacher,
    pluginId: input.teacherPluginId,
    pluginVersion: input.teacherPluginVersion,
    cache: input.cache,
    clock: input.clock,
    httpSettings: input.httpSettings,
    limits: input.limits,
    tokenCounter,
    events: input.events,
    timeoutMilliseconds: input.timeoutMilliseconds,
    random: input.random,
    admitPaidRequest: () => budget.admit(),
    onPaidAnswer: (response) => budget.pay(response.usage),
    // Kept before anything else can fail; then no new request goes out.
    onUncommitted: (answer, error) => failure.stop(spillOrLose(answer, error, input.cache?.file ?? '', failure.spillFile)),
  });
}

/** Spills an answer the cache refused, and says what stops the stage. */
function spillOrLose(answer: SpilledAnswer, error: unknown, cacheFile: string, spillFile: string): UserError {
  try {
    spillAnswer(spillFile, answer);
    return cacheWriteStop(error, cacheFile, spillFile);
  } catch (spillError) {
    // The spill file's disk failed too: say so plainly rather than as a crash.
    return new UserError({
      message: `the teacher cache ${cacheFile} cannot be written (${(error as Error).message}), and neither can ${spillFile} (${(spillError as Error).message}): the answers received since are lost`,
      fix: 'free disk space (or point cache.path / DISTILL_CACHE_DIR and output.directory at another disk) and run the same command again',
    });
  }
}

/** Writes the report once every request has ended, and says the stage is done. */
function finishTeachStage(input: TeachStageInput, run: TeachRun): TeacherReport {
  const { teacher } = input;
  const report = run.report({
    teacher: { plugin: input.teacherPluginId, version: input.teacherPluginVersion, provider: teacher.provider, model: teacher.model },
    price: run.budget.price,
    splits: input.splits.map((each) => each.split),
    stopped: run.stopReason(input.signal.aborted, input.maxFailureRate ?? 0),
  });
  writeFileNoFollow(
    input.reportFile ?? path.join(path.dirname(input.outputFile), 'teacher-report.json'),
    JSON.stringify(report, null, 2) + '\n',
  );
  input.events.emit('teacher.done', { stopped: report.stopped, records: report.records, failed: report.failed, cost_usd: report.cost_usd });
  return report;
}
