import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Teacher, TeacherRequest } from '../../core/plugins/kinds/teacher.js';
import { canonicalJson } from '../../core/canonical-json.js';
import { teacherCacheKeys } from '../../core/teacher/cache-key.js';
import { RequestEngine } from '../../core/teacher/request-engine.js';
import { TeacherCache } from '../../core/teacher/teacher-cache.js';
import { TeachBudget } from '../../core/teacher/teach-budget.js';
import { findPrice } from '../../core/teacher/price-table.js';
import type { TokenCounter } from '../../core/teacher/token-counter.js';
import { startTimer, systemClock, type Clock } from '../../core/services/clock.js';
import { LocalEventStream } from '../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../core/services/http-settings.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { round3, runConcurrently, summariseLatencies, type LatencySummary } from '../support/latency-statistics.js';
import { runInterleaved, spread, type Spread } from '../support/repeat-statistics.js';
import type { BenchMode } from '../support/result-file.js';
import { startLoopbackServer } from './loopback-server.js';
import type { TeachMemoryResult } from './teach-stage-memory-process.js';

/** The model named in requests; the loopback server answers any. */
const model = 'gpt-4o-mini';

/** One timed run of a client level: `requests` calls with exactly `concurrency` in flight. */
interface RepeatMeasurement {
  readonly seconds: number;
  readonly requests_per_second: number;
  /** CPU time of the benchmark process (client side only: the server runs elsewhere) per request. */
  readonly cpu_ms_per_request: number;
  readonly mean_ms: number;
}

/** A client level at one concurrency over its interleaved repeats. */
interface ClientMeasurement {
  /** Requests of each repeat. */
  readonly requests: number;
  /** Median over the repeats. */
  readonly requests_per_second: number;
  /** Median, min and max over the repeats. */
  readonly requests_per_second_range: Spread;
  /** Median over the repeats. */
  readonly cpu_ms_per_request: number;
  /** Every measured request of every repeat. */
  readonly latency: LatencySummary;
  readonly repeats: readonly RepeatMeasurement[];
}

interface ConcurrencyRow {
  readonly concurrency: number;
  /** `fetch` POST and JSON parse: the transport the `openai` SDK uses, nothing else. */
  readonly raw_fetch: ClientMeasurement;
  /** The `openai` teacher plugin's `complete` (official SDK), without the engine. */
  readonly sdk_teacher: ClientMeasurement;
  /**
   * `RequestEngine.request` as a teach stage runs it: the SQLite cache on, prompt tokens counted
   * with the teacher's tokenizer, requests- and tokens-per-minute limits evaluated, the budget asked
   * before and paid after every call (see {@link AccountingSettings}).
   */
  readonly engine: ClientMeasurement;
  /**
   * Engine requests/s over the bare SDK's, per repeat (the engine's run against the SDK's run of the
   * same round): median, min and max. The target is a median of at least 0.9.
   */
  readonly engine_share_of_sdk: Spread;
  readonly meets_sdk_share_target: boolean;
  /**
   * The same engine, accounting on, with no cache (`cache: null`: no key lookup, no commit), interleaved
   * with the other levels: a diagnosis of where {@link engine_share_of_sdk} loses, not a way to run.
   */
  readonly engine_without_cache: ClientMeasurement;
  /** {@link engine_without_cache}'s requests/s over the SDK's, per repeat: median, min and max. */
  readonly engine_without_cache_share_of_sdk: Spread;
  /**
   * Mean round trip of the engine minus the raw client's at the same concurrency. Once the client
   * process is CPU-bound (the loopback server answers at once, on the same cores), mean latency is
   * concurrency / throughput (Little's law), so this is mostly the extra CPU per request of the SDK
   * and the engine multiplied by the queue of requests waiting for the CPU.
   */
  readonly engine_added_latency_ms: number;
  /** Of which the SDK (teacher plugin minus raw client). */
  readonly sdk_added_latency_ms: number;
  /**
   * The engine's own time per request: its round trip minus the time inside the teacher's
   * `complete` (the SDK call and the network), i.e. cache lookup, key hashing, slot, token count,
   * limiter, budget, timeout set-up, the commit of the answer (and its wait for the group commit,
   * below), and any wait behind other requests' work on the same thread between those steps.
   * Measured per request by timing the teacher call inside the engine.
   */
  readonly engine_own: LatencySummary;
  /**
   * Of `engine_own`, the time from handing the answer to the cache to its commit: the group commit
   * waits for the other answers of the same turn of the event loop to be handled, then commits them
   * in one transaction. At saturation this is queueing for the CPU, traded for throughput.
   */
  readonly engine_commit_wait: LatencySummary;
  /** Client CPU per request, engine minus SDK teacher (medians): the engine's own work, without any queueing. */
  readonly engine_cpu_over_sdk_ms_per_request: number;
  /** What the engine's accounting counted over this concurrency's repeats (warm-up included). */
  readonly accounting: AccountingCounts;
  readonly meets_throughput_target: boolean;
  /** `engine_added_latency_ms` < 1: the end-to-end criterion, queueing included. */
  readonly meets_latency_target: boolean;
  /** Mean `engine_own` < 1 ms: the time the engine adds around the teacher call, its group-commit wait included. */
  readonly meets_own_time_target: boolean;
}

/** The accounting the engine level runs with: on, as a user's teach stage runs it, set not to bind. */
interface AccountingSettings {
  /** The teacher's token counter (`Teacher.tokenCounter`), as the teach stage loads it with a tokens-per-minute limit. */
  readonly token_counter: string;
  readonly requests_per_minute: number;
  readonly tokens_per_minute: number;
  /** `budget.max_usd` and `budget.max_requests` of a pipeline. */
  readonly budget_max_usd: number;
  readonly budget_max_requests: number;
  /** The price the budget pays each answer at (the teacher's list price). */
  readonly price: string;
}

/** Proof that the accounting ran: what it counted. */
interface AccountingCounts {
  /**
   * Prompts the token counter bounded (`TokenCounter.boundMessages`, one per paid call while a rate
   * limit is set) and prompts it counted exactly (only when a bound would have made a request wait).
   */
  readonly prompts_bounded: number;
  readonly prompts_counted: number;
  readonly tokens_counted: number;
  /** Requests the budget admitted and paid. */
  readonly budget_requests: number;
  readonly budget_usd: number;
}

/** Settings written into the result file. */
export interface TeacherEngineSettings {
  readonly requests_per_level: number;
  readonly warmup_requests: number;
  /** Interleaved rounds (raw, SDK, engine; raw, SDK, engine; ...) per concurrency. */
  readonly repeats: number;
  readonly concurrency_levels: readonly number[];
  readonly accounting: AccountingSettings;
  readonly cache_entries: number;
  readonly teach_stage_examples: number;
  readonly teach_stage_concurrency: number;
  readonly server: string;
  readonly targets: {
    readonly requests_per_second: number;
    readonly share_of_sdk: number;
    readonly added_latency_ms: number;
    readonly added_latency: string;
    readonly memory: string;
  };
}

/** Limits and budget far above what the bench reaches: evaluated on every request, never binding. */
const accountingLimits = {
  requestsPerMinute: 100_000_000,
  tokensPerMinute: 100_000_000_000,
  maxUsd: 1_000_000,
  maxRequests: 1_000_000_000,
};

/** The level's summary over its repeats; `latencies` are those of every measured request. */
function summariseLevel(
  requests: number,
  runs: readonly { seconds: number; latencies: number[]; cpuMicroseconds: number }[],
): ClientMeasurement {
  const repeats = runs.map((run) => ({
    seconds: round3(run.seconds),
    requests_per_second: Math.round(requests / run.seconds),
    cpu_ms_per_request: round3(run.cpuMicroseconds / 1000 / requests),
    mean_ms: round3(run.latencies.reduce((total, value) => total + value, 0) / run.latencies.length),
  }));
  const throughput = spread(repeats.map((repeat) => Math.round(repeat.requests_per_second)));
  return {
    requests,
    requests_per_second: throughput.median,
    requests_per_second_range: throughput,
    cpu_ms_per_request: spread(repeats.map((repeat) => repeat.cpu_ms_per_request)).median,
    latency: summariseLatencies(runs.flatMap((run) => run.latencies)),
    repeats,
  };
}

/** A request with a prompt no other request has: every call is a cache miss and reaches the server. */
function uniqueRequest(tag: string, index: number): TeacherRequest {
  return {
    exampleId: `${tag}-${index}`,
    split: 'train',
    messages: [
      {
        role: 'user',
        content: `Based on A man walks along the river (scene ${tag}-${index}), determine whether the claim "A man is outside." is true, false, or inconclusive?`,
      },
    ],
  };
}

/** The accounting of one engine: a budget, and the teacher's token counter with a count of its use. */
interface EngineAccounting {
  readonly budget: TeachBudget;
  readonly tokenCounter: TokenCounter;
  counts(): { bounded: number; prompts: number; tokens: number };
}

function engineAccounting(teacher: Teacher, counter: TokenCounter): EngineAccounting {
  let bounded = 0;
  let prompts = 0;
  let tokens = 0;
  const tokenCounter: TokenCounter = {
    ...counter,
    countMessages(messages) {
      const counted = counter.countMessages(messages);
      prompts++;
      tokens += counted;
      return counted;
    },
    ...(counter.boundMessages
      ? {
          boundMessages(messages: Parameters<NonNullable<TokenCounter['boundMessages']>>[0]) {
            bounded++;
            return counter.boundMessages!(messages);
          },
        }
      : {}),
  };
  return {
    budget: new TeachBudget({ max_usd: accountingLimits.maxUsd, max_requests: accountingLimits.maxRequests }, findPrice(teacher)),
    tokenCounter,
    counts: () => ({ bounded, prompts, tokens }),
  };
}

/** The engine as the teach stage builds it (`teachEngine`): limits, token counter, budget admitting and paying. */
function newEngine(teacher: Teacher, cache: TeacherCache | null, concurrency: number, accounting: EngineAccounting): RequestEngine {
  return new RequestEngine({
    teacher,
    pluginId: 'openai',
    pluginVersion: builtinDescriptor('teacher', 'openai').version,
    cache,
    clock: systemClock,
    httpSettings: defaultHttpSettings,
    limits: { concurrency, requestsPerMinute: accountingLimits.requestsPerMinute, tokensPerMinute: accountingLimits.tokensPerMinute },
    tokenCounter: accounting.tokenCounter,
    events: new LocalEventStream(),
    admitPaidRequest: () => accounting.budget.admit(),
    onPaidAnswer: (paid) => accounting.budget.pay(paid.usage),
  });
}

/** What one concurrency's measurement is given. */
interface LevelSizes {
  readonly requests: number;
  readonly warmup: number;
  readonly repeats: number;
}

async function measureConcurrency(
  baseUrl: string,
  teacher: Teacher,
  counter: TokenCounter,
  concurrency: number,
  sizes: LevelSizes,
  directory: string,
): Promise<ConcurrencyRow> {
  const { requests, warmup, repeats } = sizes;
  const signal = new AbortController().signal;
  // The engine listens on its caller's signal once per call in flight, and removes the listener when
  // the call settles: `concurrency` listeners at most, above Node's warning threshold of 10.
  setMaxListeners(Math.max(10, concurrency * 2), signal);
  const url = `${baseUrl}/chat/completions`;
  const rawCall = async (request: TeacherRequest) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer bench-key' },
      body: JSON.stringify({ model, messages: request.messages, max_tokens: 64, temperature: 0 }),
    });
    await response.json();
  };
  // A signal per call, as the engine gives it: the SDK adds an abort listener to the signal it gets
  // and never removes it, so one shared signal would collect thousands and slow every call down.
  const sdkCall = (request: TeacherRequest) => teacher.complete(request, new AbortController().signal);
  const cache = TeacherCache.open(path.join(directory, `engine-${concurrency}.sqlite`));
  try {
    // The bench's own instrumentation: the real teacher still makes every call; this only notes how
    // long each call took, so that the engine's time around it can be told apart.
    // Commit waits are noted as they end, without hashing the request again to find its key.
    const teacherMilliseconds = new Map<string, number>();
    const ownMilliseconds: number[] = [];
    const commitWaitMilliseconds: number[] = [];
    let measuring = false;
    const commit = cache.commit.bind(cache);
    cache.commit = (key, origin, response, createdAt) => {
      const started = performance.now();
      return commit(key, origin, response, createdAt).then(() => {
        if (measuring) commitWaitMilliseconds.push(performance.now() - started);
      });
    };
    const timedTeacher: Teacher = {
      ...teacher,
      async complete(request, callSignal) {
        const started = performance.now();
        try {
          return await teacher.complete(request, callSignal);
        } finally {
          teacherMilliseconds.set(request.exampleId, performance.now() - started);
        }
      },
    };
    // One engine for all the repeats, as one teach stage has one: its rate-limit window fills as a run's does.
    const accounting = engineAccounting(teacher, counter);
    const engine = newEngine(timedTeacher, cache, concurrency, accounting);
    const engineCall = async (request: TeacherRequest) => {
      const started = performance.now();
      const outcome = await engine.request(request, signal);
      const roundTrip = performance.now() - started;
      if (outcome.status !== 'answered' || outcome.cached)
        throw new Error(`the engine did not answer with a fresh call: ${JSON.stringify(outcome)}`);
      if (measuring) ownMilliseconds.push(roundTrip - teacherMilliseconds.get(request.exampleId)!);
      teacherMilliseconds.delete(request.exampleId);
    };
    // Its own accounting, so that the counts reported are the cached engine's.
    const engineWithoutCache = newEngine(teacher, null, concurrency, engineAccounting(teacher, counter));
    const engineWithoutCacheCall = async (request: TeacherRequest) => {
      const outcome = await engineWithoutCache.request(request, signal);
      if (outcome.status !== 'answered') throw new Error(`the engine without cache did not answer: ${JSON.stringify(outcome)}`);
    };
    const levels = [
      { tag: 'raw', call: rawCall },
      { tag: 'sdk', call: sdkCall },
      { tag: 'engine', call: engineCall },
      { tag: 'engine-without-cache', call: engineWithoutCacheCall },
    ] as const;
    const run = (tag: string, count: number, call: (request: TeacherRequest) => Promise<unknown>) =>
      runConcurrently(count, concurrency, (index) => call(uniqueRequest(`${tag}-${concurrency}`, index)).then(() => undefined));
    for (const { tag, call } of levels) await run(`${tag}-warmup`, warmup, call);
    // Interleaved, so that a slow spell of the machine hits every level alike, and rotated each round
    // (raw, SDK, engine, engine without cache; SDK, …, raw; …), so that no level always runs in the
    // wake of the same other one (its garbage to collect, its sockets to close).
    measuring = true;
    const runs = await runInterleaved(
      repeats,
      levels.map(({ tag, call }) => ({ name: tag, run: (round: number) => run(`${tag}-r${round}`, requests, call) })),
    );
    const [raw, sdk, engineMeasurement, withoutCache] = levels.map(({ tag }) => summariseLevel(requests, runs.get(tag)!)) as [
      ClientMeasurement,
      ClientMeasurement,
      ClientMeasurement,
      ClientMeasurement,
    ];
    const shareOfSdk = (measurement: ClientMeasurement) =>
      spread(measurement.repeats.map((repeat, index) => repeat.requests_per_second / sdk.repeats[index]!.requests_per_second));
    const share = shareOfSdk(engineMeasurement);
    const added = engineMeasurement.latency.mean_ms - raw.latency.mean_ms;
    const own = summariseLatencies(ownMilliseconds);
    const counts = accounting.counts();
    return {
      concurrency,
      raw_fetch: raw,
      sdk_teacher: sdk,
      engine: engineMeasurement,
      engine_share_of_sdk: share,
      meets_sdk_share_target: share.median >= 0.9,
      engine_without_cache: withoutCache,
      engine_without_cache_share_of_sdk: shareOfSdk(withoutCache),
      engine_added_latency_ms: round3(added),
      sdk_added_latency_ms: round3(sdk.latency.mean_ms - raw.latency.mean_ms),
      engine_own: own,
      engine_commit_wait: summariseLatencies(commitWaitMilliseconds),
      engine_cpu_over_sdk_ms_per_request: round3(engineMeasurement.cpu_ms_per_request - sdk.cpu_ms_per_request),
      accounting: {
        prompts_bounded: counts.bounded,
        prompts_counted: counts.prompts,
        tokens_counted: counts.tokens,
        budget_requests: accounting.budget.requestsThisRun,
        budget_usd: Math.round(accounting.budget.costThisRun * 1e6) / 1e6,
      },
      meets_throughput_target: engineMeasurement.requests_per_second >= 1000,
      meets_latency_target: added < 1,
      meets_own_time_target: own.mean_ms < 1,
    };
  } finally {
    cache.close();
  }
}

interface CacheMeasurement {
  readonly entries: number;
  /** One committed transaction per answer, as the engine stores them. */
  readonly puts_per_second: number;
  /** `TeacherCache.get` of stored keys in random order. */
  readonly lookups_per_second: number;
  /** `RequestEngine.request` answered from the cache (canonical hashing of the request included), one at a time. */
  readonly engine_hits_per_second_concurrency_1: number;
  /** The same with 64 requests in flight. */
  readonly engine_hits_per_second_concurrency_64: number;
  readonly file_megabytes: number;
}

async function measureCache(teacher: Teacher, counter: TokenCounter, entries: number, directory: string): Promise<CacheMeasurement> {
  const cache = TeacherCache.open(path.join(directory, 'hits.sqlite'));
  try {
    const engine = newEngine(teacher, cache, 64, engineAccounting(teacher, counter));
    const requests = Array.from({ length: entries }, (_, index) => uniqueRequest('hit', index));
    const keys = requests.map((request) => engine.keyOf(request));
    const origin = { pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model };
    const answer = {
      text: 'The claim is true. The premise states that the event took place in Paris, so the hypothesis follows from it.',
      usage: { promptTokens: 42, completionTokens: 24 },
      model,
      finishReason: 'stop',
    };
    let started = performance.now();
    keys.forEach((key) => cache.put(key, origin, answer, Date.now()));
    const putsPerSecond = entries / ((performance.now() - started) / 1000);

    const shuffled = [...keys];
    for (let index = shuffled.length - 1; index > 0; index--) {
      const other = Math.floor(Math.random() * (index + 1));
      [shuffled[index], shuffled[other]] = [shuffled[other]!, shuffled[index]!];
    }
    started = performance.now();
    for (const key of shuffled) if (!cache.get(key)) throw new Error('a stored key was not found');
    const lookupsPerSecond = entries / ((performance.now() - started) / 1000);

    const signal = new AbortController().signal;
    const hit = async (index: number) => {
      const outcome = await engine.request(requests[index]!, signal);
      if (outcome.status !== 'answered' || !outcome.cached) throw new Error('expected a cache hit');
    };
    const sequential = await runConcurrently(entries, 1, hit);
    const parallel = await runConcurrently(entries, 64, hit);
    return {
      entries,
      puts_per_second: Math.round(putsPerSecond),
      lookups_per_second: Math.round(lookupsPerSecond),
      engine_hits_per_second_concurrency_1: Math.round(entries / sequential.seconds),
      engine_hits_per_second_concurrency_64: Math.round(entries / parallel.seconds),
      file_megabytes: round3(cache.statistics().sizeBytes / 2 ** 20),
    };
  } finally {
    cache.close();
  }
}

/** One of the engine's steps on every request, timed as it was before issue 18's changes and as it is now. */
interface StepComparison {
  readonly step: string;
  readonly before: string;
  readonly after: string;
  /** Operations timed per repeat and variant. */
  readonly operations: number;
  /** Microseconds per operation: median, min and max over the interleaved repeats. */
  readonly before_microseconds: Spread;
  readonly after_microseconds: Spread;
}

/** A request's messages as the engine bench sends them. */
const stepMessages = (index: number) => uniqueRequest('step', index).messages;

/** The indexes the answers table had before issue 18, with SQLite's default checkpoint of 1,000 pages. */
function useEarlierLayout(cache: TeacherCache): void {
  cache.database.exec(`
    CREATE INDEX IF NOT EXISTS answers_model ON answers (provider, model);
    CREATE INDEX IF NOT EXISTS answers_created_at ON answers (created_at);
  `);
  cache.database.pragma('wal_autocheckpoint = 1000');
}

/**
 * The engine's steps changed by issue 18, before and after, in this run: each variant in turn,
 * rotated each round, the same operations for both. The key: the canonical JSON of the whole key
 * object hashed by a Hash object (as `teacherCacheKey` did) against `teacherCacheKeys`. The timeout of a
 * call: a cancellable sleep (an abort controller, its listener and abort event) against `Clock.after`,
 * each started and cancelled around an awaited call that returns at once. The commit of one answer
 * (`TeacherCache.put`, one transaction): a cache file with the earlier layout against one as shipped,
 * both filled with `commitFill` answers first.
 */
async function measureSteps(directory: string, repeats: number, operations: { keys: number; commits: number; commitFill: number }) {
  const parts = { pluginId: 'openai', pluginVersion: '1.0.0', model, requestOptions: { max_tokens: 64, temperature: 0 } };
  const keys = teacherCacheKeys(parts);
  const keyBefore = (index: number) =>
    createHash('sha256')
      .update(
        canonicalJson({
          teacher: { id: parts.pluginId, version: parts.pluginVersion },
          model: parts.model,
          messages: stepMessages(index).map((message) => ({ role: message.role, content: message.content })),
          options: parts.requestOptions,
        }),
      )
      .digest('hex');
  const sleepOnlyClock: Clock = { now: () => systemClock.now(), sleep: (milliseconds, signal) => systemClock.sleep(milliseconds, signal) };
  const timed = async (count: number, operation: (index: number) => unknown) => {
    const started = performance.now();
    for (let index = 0; index < count; index++) await operation(index);
    return ((performance.now() - started) * 1000) / count;
  };
  const timerAround = (clock: Clock) => async () => {
    const cancel = startTimer(clock, defaultHttpSettings.timeoutMilliseconds, () => undefined);
    try {
      await Promise.resolve();
    } finally {
      cancel();
    }
  };
  const answer = {
    text: 'The claim is true. The premise states that the event took place in Paris, so the hypothesis follows from it.',
    usage: { promptTokens: 42, completionTokens: 24 },
    model,
    finishReason: 'stop',
  };
  const origin = { pluginId: 'openai', pluginVersion: '1.0.0', provider: 'openai', model };
  const caches = {
    before: TeacherCache.open(path.join(directory, 'layout-before.sqlite')),
    after: TeacherCache.open(path.join(directory, 'layout-after.sqlite')),
  };
  useEarlierLayout(caches.before);
  let stored = 0;
  const put = (cache: TeacherCache, count: number) => () => timed(count, () => cache.put(`answer-${stored++}`, origin, answer, Date.now()));
  try {
    for (const cache of Object.values(caches)) await put(cache, operations.commitFill)();
    const variants = {
      'key-before': () => timed(operations.keys, keyBefore),
      'key-after': () => timed(operations.keys, (index) => keys(stepMessages(index))),
      'timer-before': () => timed(operations.keys, timerAround(sleepOnlyClock)),
      'timer-after': () => timed(operations.keys, timerAround(systemClock)),
      'commit-before': put(caches.before, operations.commits),
      'commit-after': put(caches.after, operations.commits),
    };
    const runs = await runInterleaved(
      repeats,
      Object.entries(variants).map(([name, run]) => ({ name, run })),
    );
    const comparison = (step: string, operationsTimed: number, before: string, after: string): StepComparison => ({
      step,
      before,
      after,
      operations: operationsTimed,
      before_microseconds: spread(runs.get(`${step}-before`)!),
      after_microseconds: spread(runs.get(`${step}-after`)!),
    });
    return [
      comparison(
        'key',
        operations.keys,
        'canonical JSON of the whole key object, hashed by a Hash object',
        "the shared parts' canonical JSON written once (teacherCacheKeys), one-shot hash",
      ),
      comparison('timer', operations.keys, 'a cancellable sleep: abort controller, listener, abort event', 'Clock.after: a plain timer'),
      comparison(
        'commit',
        operations.commits,
        'answers table with two secondary indexes, checkpoint every 1,000 pages',
        'as shipped: no secondary index, checkpoint every 10,000 pages',
      ),
    ];
  } finally {
    for (const cache of Object.values(caches)) cache.close();
  }
}

/**
 * Runs the teach stage in a fresh Node process, so its memory is the stage's alone. With
 * `collections`, the process also measures its live heap after full collections (`--expose-gc`);
 * those collections trim RSS too, so RSS and peak are taken from a run without them.
 */
function measureTeachStage(
  baseUrl: string,
  examples: number,
  concurrency: number,
  directory: string,
  collections: boolean,
): Promise<TeachMemoryResult> {
  const program = path.join(path.dirname(fileURLToPath(import.meta.url)), 'teach-stage-memory-process.js');
  const folder = path.join(directory, collections ? 'teach-stage-with-collections' : 'teach-stage');
  mkdirSync(folder, { recursive: true });
  return new Promise((resolve, reject) => {
    const flags = collections ? ['--expose-gc'] : [];
    const child = spawn(process.execPath, [...flags, program, baseUrl, String(examples), String(concurrency), folder], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) {
        reject(new Error(`the teach-stage memory process exited with code ${code}`));
        return;
      }
      resolve(JSON.parse(output.trim().split('\n').at(-1)!) as TeachMemoryResult);
    });
  });
}

/**
 * The teacher engine against a loopback OpenAI wire-protocol server in another process: requests
 * per second and added latency at each concurrency, the raw client, the bare SDK and the engine
 * with its accounting on interleaved over `repeats` rounds (medians and ranges); cache-hit lookups
 * per second; the teach stage's memory over many examples with records streamed to disk.
 */
export async function runTeacherEngineBenchmark(mode: BenchMode) {
  const sizes = {
    smoke: [100, 50, 3, 1000, 1000],
    quick: [1000, 300, 15, 20000, 10000],
    full: [10000, 1000, 9, 100000, 100000],
  }[mode];
  const [requests, warmup, repeats, cacheEntries, teachExamples] = sizes as [number, number, number, number, number];
  const stepOperations = {
    smoke: { keys: 1000, commits: 100, commitFill: 100 },
    quick: { keys: 20000, commits: 2000, commitFill: 5000 },
    full: { keys: 100000, commits: 10000, commitFill: 50000 },
  }[mode];
  const levels = [1, 4, 16, 64, 256];
  const teachConcurrency = 64;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-engine-'));
  const server = await startLoopbackServer();
  try {
    const teacher = (await builtinDescriptor('teacher', 'openai').create(
      { model, base_url: server.baseUrl, api_key: 'bench-key', max_tokens: 64 },
      benchDependencies(),
    )) as Teacher;
    // Loaded once, as the teach stage loads it once for a run with a tokens-per-minute limit.
    const counter = await teacher.tokenCounter!();
    const rows: ConcurrencyRow[] = [];
    for (const concurrency of levels) {
      const row = await measureConcurrency(server.baseUrl, teacher, counter, concurrency, { requests, warmup, repeats }, directory);
      const range = (measurement: ClientMeasurement) =>
        `${measurement.requests_per_second}/s [${measurement.requests_per_second_range.min}–${measurement.requests_per_second_range.max}]`;
      console.log(
        `  concurrency ${concurrency} (median [min–max] of ${repeats} interleaved repeats): raw ${range(row.raw_fetch)}, sdk ${range(row.sdk_teacher)}, engine with accounting ${range(row.engine)}, engine/SDK ${row.engine_share_of_sdk.median} [${row.engine_share_of_sdk.min}–${row.engine_share_of_sdk.max}] (${row.meets_sdk_share_target ? 'meets' : 'misses'} ≥ 0.9), added ${row.engine_added_latency_ms} ms (mean difference), engine's own ${row.engine_own.mean_ms} ms mean / ${row.engine_own.p99_ms} ms p99 (of which commit wait ${row.engine_commit_wait.mean_ms} ms mean), CPU ms/request raw ${row.raw_fetch.cpu_ms_per_request} sdk ${row.sdk_teacher.cpu_ms_per_request} engine ${row.engine.cpu_ms_per_request}`,
      );
      rows.push(row);
    }
    const cache = await measureCache(teacher, counter, cacheEntries, directory);
    console.log(`  cache: ${cache.lookups_per_second} lookups/s, engine hits ${cache.engine_hits_per_second_concurrency_1}/s`);
    const steps = await measureSteps(directory, repeats, stepOperations);
    for (const step of steps)
      console.log(
        `  ${step.step}: before ${step.before_microseconds.median} µs [${step.before_microseconds.min}–${step.before_microseconds.max}], after ${step.after_microseconds.median} µs [${step.after_microseconds.min}–${step.after_microseconds.max}]`,
      );
    const teachStage = await measureTeachStage(server.baseUrl, teachExamples, teachConcurrency, directory, false);
    const withCollections = await measureTeachStage(server.baseUrl, teachExamples, teachConcurrency, directory, true);
    const liveHeap = {
      samples: withCollections.live_heap_samples,
      growth_megabytes_per_10k_examples: withCollections.live_heap_growth_megabytes_per_10k_examples,
    };
    console.log(
      `  teach stage: ${teachStage.examples} examples, peak RSS ${teachStage.peak_rss_megabytes} MB, growth per 10k examples: RSS ${teachStage.rss_growth_megabytes_per_10k_examples} MB, heap ${teachStage.heap_growth_megabytes_per_10k_examples} MB; live heap (second run) ${liveHeap.growth_megabytes_per_10k_examples} MB`,
    );
    const settings: TeacherEngineSettings = {
      requests_per_level: requests,
      warmup_requests: warmup,
      repeats,
      concurrency_levels: levels,
      accounting: {
        token_counter: counter.method,
        requests_per_minute: accountingLimits.requestsPerMinute,
        tokens_per_minute: accountingLimits.tokensPerMinute,
        budget_max_usd: accountingLimits.maxUsd,
        budget_max_requests: accountingLimits.maxRequests,
        price: findPrice(teacher)?.key ?? 'none',
      },
      cache_entries: cacheEntries,
      teach_stage_examples: teachExamples,
      teach_stage_concurrency: teachConcurrency,
      server:
        'test/support/provider-server.ts (OpenAI chat-completions wire protocol, recorded response shape, answers at once) in a separate Node process on 127.0.0.1',
      targets: {
        requests_per_second: 1000,
        share_of_sdk: 0.9,
        added_latency_ms: 1,
        added_latency:
          "checked twice: mean engine round trip minus mean raw fetch round trip (queueing included), and the engine's own time per request outside the teacher call",
        memory:
          'flat while records stream to disk: the live heap after full collections grows only by the keys of the examples done (kept for resume, about 0.1 KB each)',
      },
    };
    // The live heap comes from a second run of the same stage, with full collections at every 5%.
    return { settings, results: { concurrency: rows, steps, cache, teach_stage: teachStage, teach_stage_live_heap: liveHeap } };
  } finally {
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}
