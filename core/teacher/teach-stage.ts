import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { canonicalHash } from '../canonical-json.js';
import type { Price } from '../config/pipeline-config.js';
import { didYouMeanPhrase } from '../errors/did-you-mean.js';
import { UserError } from '../errors/user-error.js';
import { writeFileNoFollow } from '../files/no-follow-files.js';
import type { Dataset, DatasetExample } from '../plugins/kinds/dataset.js';
import type { ParsedAnswer, Parser } from '../plugins/kinds/parser.js';
import type { Prompt } from '../plugins/kinds/prompt.js';
import type { Teacher } from '../plugins/kinds/teacher.js';
import type { Clock } from '../services/clock.js';
import type { EventStream } from '../services/event-stream.js';
import type { HttpSettings } from '../services/http-settings.js';
import { costOf, findPrice } from './price-table.js';
import { cacheSpillFile, importSpilledAnswers, spillAnswer } from './cache-spill.js';
import { RequestEngine, type EngineLimits, type EngineOutcome } from './request-engine.js';
import type { TeacherCache } from './teacher-cache.js';
import { readExistingOutput, recordKey, TeacherOutputWriter } from './teacher-output.js';
import type { TeacherRecord } from './teacher-record.js';
import { TeacherReportTotals, type TeacherReport, type TeachStopReason } from './teacher-report.js';

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
  readonly events: EventStream;
  readonly signal: AbortSignal;
  readonly clock: Clock;
  readonly httpSettings: HttpSettings;
  readonly timeoutMilliseconds?: number;
  /** Jitter source for backoff (tests fix it). */
  readonly random?: () => number;
  /** Compares a teacher label with gold for the report's accuracy (e.g. the pipeline's evaluator). */
  readonly labelsMatch?: (predicted: string, gold: string) => boolean;
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
  if (problems.length > 0) throw new UserError(problems);
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

function parseSafely(parser: Parser, text: string, example: DatasetExample): ParsedAnswer {
  try {
    return parser.parse(text, example);
  } catch (error) {
    // A parser bug on one odd answer must not lose the answer: keep it, unparsed, with the reason.
    return { status: 'unparsed', label: null, rationale: null, reason: `parser error: ${(error as Error).message}` };
  }
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
  const { dataset, prompt, parser, teacher, events, clock } = input;
  const started = clock.now();
  const stageAbort = new AbortController();
  const signal = AbortSignal.any([input.signal, stageAbort.signal]);
  // Each example of the window listens on this signal while it waits for a slot, a rate-limit turn or
  // a backoff, or while its call is out; every one of those removes its listener when it settles, so
  // the count is bounded by the window, but above Node's default warning threshold of 10.
  setMaxListeners(Math.max(64, input.limits.concurrency * 16), signal);
  const price = findPrice(teacher, input.prices);

  // Records are streamed, never held: resuming reads the output once, keeping only the keys done,
  // the budget's counters and the report's totals; every record written afterwards goes to the same
  // totals. The output may also hold other splits (labelled by another invocation): they count
  // towards the budget but the report is on the requested splits only.
  const splitNames = new Set(input.splits.map((each) => each.split));
  const reportTotals = new TeacherReportTotals(input.labelsMatch);
  let spent = 0;
  let paidRequests = 0;
  let recordsInOutput = 0;
  const counts = { cached: 0, failed: 0, skipped: 0 };
  const countRecord = (record: TeacherRecord) => {
    recordsInOutput++;
    if (record.cached) counts.cached++;
    if (splitNames.has(record.split)) reportTotals.add(record);
  };
  const existing = await readExistingOutput(input.outputFile, (record) => {
    countRecord(record);
    spent += record.cost_usd;
    if (!record.cached) paidRequests++;
  });
  const done = existing.keys;
  const spillFile = path.join(path.dirname(input.outputFile), cacheSpillFile);
  if (input.cache) {
    const imported = importSpilledAnswers(spillFile, input.cache);
    if (imported)
      events.emit('teacher.spill_imported', { file: spillFile, answers: imported.imported, unreadable_lines: imported.unreadable });
  }

  let total = 0;
  for await (const _ of examplesOf(dataset, input.splits)) total++;

  // Only a tokens-per-minute limit needs counts before the call; loading a tokenizer is not free.
  // A teacher without a counter is limited by the usage its answers report (see `Teacher.tokenCounter`).
  const tokenCounter = input.limits.tokensPerMinute !== undefined ? ((await teacher.tokenCounter?.()) ?? null) : null;
  const { max_usd: maxUsd, max_requests: maxRequests } = input.budget ?? {};
  let requestsThisRun = 0;
  let costThisRun = 0;
  let stopped: TeachStopReason | null = null;
  let fatal: unknown = null;
  // Keys of the examples that failed in this run (those of earlier runs were dropped and asked again).
  const failedKeys: string[] = [];
  const engine = new RequestEngine({
    teacher,
    pluginId: input.teacherPluginId,
    pluginVersion: input.teacherPluginVersion,
    cache: input.cache,
    clock,
    httpSettings: input.httpSettings,
    limits: input.limits,
    tokenCounter,
    events,
    timeoutMilliseconds: input.timeoutMilliseconds,
    random: input.random,
    admitPaidRequest: () => {
      if ((maxUsd !== undefined && spent >= maxUsd) || (maxRequests !== undefined && paidRequests >= maxRequests)) return false;
      paidRequests++;
      return true;
    },
    onPaidAnswer: (response) => {
      const cost = costOf(response.usage, price);
      spent += cost;
      costThisRun += cost;
      requestsThisRun++;
    },
    onUncommitted: (answer, error) => {
      // Kept before anything else can fail; then no new request goes out.
      try {
        spillAnswer(spillFile, answer);
        fatal ??= cacheWriteStop(error, input.cache?.file ?? '', spillFile);
      } catch (spillError) {
        // The spill file's disk failed too: say so plainly rather than as a crash.
        fatal ??= new UserError({
          message: `the teacher cache ${input.cache?.file ?? ''} cannot be written (${(error as Error).message}), and neither can ${spillFile} (${(spillError as Error).message}): the answers received since are lost`,
          fix: 'free disk space (or point cache.path / DISTILL_CACHE_DIR and output.directory at another disk) and run the same command again',
        });
      }
      stageAbort.abort(fatal);
    },
  });

  const progress = () =>
    events.emit('teacher.progress', {
      done: recordsInOutput,
      total,
      cached: counts.cached,
      failed: counts.failed,
      skipped: counts.skipped,
      dollars: spent,
      dollars_this_run: costThisRun,
      done_this_run: recordsInOutput - existing.records,
      elapsed_ms: clock.now() - started,
    });
  events.emit('teacher.start', {
    total,
    resumed: existing.records,
    dropped: existing.dropped,
    provider: teacher.provider,
    model: teacher.model,
  });
  progress();

  const writer = new TeacherOutputWriter(input.outputFile);
  const write = (record: TeacherRecord) => {
    writer.append(record);
    countRecord(record);
  };

  const handle = (example: DatasetExample, outcome: EngineOutcome) => {
    const base = {
      id: example.id,
      split: example.split,
      fields: example.fields,
      student_input: dataset.studentInput(example),
      gold_label: example.goldLabel,
    };
    if (outcome.status === 'skipped') {
      // Cancelled: no record, so the next run asks again; budget: the same, and the report says so.
      if (outcome.reason === 'budget') {
        counts.skipped++;
        stopped = 'budget';
      }
      return;
    }
    if (outcome.status === 'failed') {
      counts.failed++;
      failedKeys.push(recordKey(example.split, example.id));
      write({
        ...base,
        teacher_label: null,
        rationale: null,
        parse_status: 'failed',
        reason: outcome.reason,
        raw_text: null,
        prompt_tokens: 0,
        completion_tokens: 0,
        cost_usd: 0,
        cached: false,
      });
      events.emit('teacher.failed', { example: example.id, split: example.split, reason: outcome.reason, attempts: outcome.attempts });
      return;
    }
    const { response, cached } = outcome;
    // Spend was already counted by the engine (onPaidAnswer), before the next request was admitted.
    const cost = cached ? 0 : costOf(response.usage, price);
    const parsed = parseSafely(parser, response.text, example);
    write({
      ...base,
      teacher_label: parsed.label,
      rationale: parsed.rationale,
      parse_status: parsed.status,
      reason: parsed.status === 'unparsed' ? parsed.reason : null,
      raw_text: response.text,
      prompt_tokens: response.usage.promptTokens,
      completion_tokens: response.usage.completionTokens,
      cost_usd: cost,
      cached,
    });
    events.emit(cached ? 'teacher.cached' : 'teacher.request', {
      example: example.id,
      split: example.split,
      status: parsed.status,
      prompt_tokens: response.usage.promptTokens,
      completion_tokens: response.usage.completionTokens,
      cost_usd: cost,
      attempts: outcome.attempts,
    });
  };

  // Keep a bounded window of examples in flight: enough to fill the engine, never the whole dataset.
  const window = Math.max(2, input.limits.concurrency * 2);
  const pending = new Set<Promise<void>>();
  // Wakes the loop when an example of a full window finishes. Not Promise.race(pending): that hangs
  // a reaction on every pending example for every example started, window × examples in all.
  let slotFreed: (() => void) | null = null;
  try {
    for await (const example of examplesOf(dataset, input.splits)) {
      if (signal.aborted) break;
      const key = recordKey(example.split, example.id);
      if (done.has(key)) continue;
      done.add(key);
      const messages = prompt.render(example);
      const task = engine
        .request({ exampleId: example.id, split: example.split, messages }, signal)
        .then((outcome) => handle(example, outcome))
        .catch((error: unknown) => {
          if (signal.aborted && !fatal) return;
          // A user error (bad key, unknown model) fails every request alike: stop the others now.
          fatal ??= error;
          stageAbort.abort(error);
        })
        .finally(() => {
          pending.delete(task);
          progress();
          slotFreed?.();
        });
      pending.add(task);
      if (pending.size >= window) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = null;
      }
    }
    await Promise.all(pending);
  } finally {
    await Promise.allSettled(pending);
    writer.close();
  }
  if (fatal) throw fatal;
  if (input.signal.aborted) stopped = 'cancelled';
  const failedShare = total > 0 ? failedKeys.length / total : 0;
  if (stopped === null && failedShare > (input.maxFailureRate ?? 0)) stopped = 'failures';

  const report = reportTotals.build({
    teacher: { plugin: input.teacherPluginId, version: input.teacherPluginVersion, provider: teacher.provider, model: teacher.model },
    price,
    splits: input.splits.map((each) => each.split),
    stopped,
    examples: total,
    requestsThisRun,
    costThisRun,
    durationSeconds: (clock.now() - started) / 1000,
    failedDigest: failedKeys.length > 0 ? canonicalHash(failedKeys.sort()) : null,
  });
  writeFileNoFollow(
    input.reportFile ?? path.join(path.dirname(input.outputFile), 'teacher-report.json'),
    JSON.stringify(report, null, 2) + '\n',
  );
  events.emit('teacher.done', { stopped: report.stopped, records: report.records, failed: report.failed, cost_usd: report.cost_usd });
  return report;
}
