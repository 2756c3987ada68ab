import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Teacher, TeacherRequest } from '../../core/plugins/kinds/teacher.js';
import { RequestEngine } from '../../core/teacher/request-engine.js';
import { TeacherCache } from '../../core/teacher/teacher-cache.js';
import { systemClock } from '../../core/services/clock.js';
import { LocalEventStream } from '../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../core/services/http-settings.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { round3, runConcurrently, summariseLatencies, type LatencySummary } from '../support/latency-statistics.js';
import type { BenchMode } from '../support/result-file.js';
import { startLoopbackServer } from './loopback-server.js';
import type { TeachMemoryResult } from './teach-stage-memory-process.js';

/** The model named in requests; the loopback server answers any. */
const model = 'gpt-4o-mini';

interface ClientMeasurement {
  readonly requests: number;
  readonly seconds: number;
  readonly requests_per_second: number;
  /** CPU time of the benchmark process (client side only: the server runs elsewhere) per request. */
  readonly cpu_ms_per_request: number;
  readonly latency: LatencySummary;
}

interface ConcurrencyRow {
  readonly concurrency: number;
  /** `fetch` POST and JSON parse: the transport the `openai` SDK uses, nothing else. */
  readonly raw_fetch: ClientMeasurement;
  /** The `openai` teacher plugin's `complete` (official SDK), without the engine. */
  readonly sdk_teacher: ClientMeasurement;
  /** `RequestEngine.request` with the SQLite cache on: hashing, slot, SDK call, commit of every answer. */
  readonly engine: ClientMeasurement;
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
   * `complete` (the SDK call and the network), i.e. cache lookup, key hashing, slot, limiter,
   * timeout set-up, the commit of the answer (and its wait for the group commit, below), and any wait
   * behind other requests' work on the same thread between those steps. Measured per request by
   * timing the teacher call inside the engine.
   */
  readonly engine_own: LatencySummary;
  /**
   * Of `engine_own`, the time from handing the answer to the cache to its commit: the group commit
   * waits for the other answers of the same turn of the event loop to be handled, then commits them
   * in one transaction. At saturation this is queueing for the CPU, traded for throughput.
   */
  readonly engine_commit_wait: LatencySummary;
  /** Client CPU per request, engine minus SDK teacher: the engine's own work, without any queueing. */
  readonly engine_cpu_over_sdk_ms_per_request: number;
  readonly meets_throughput_target: boolean;
  /** `engine_added_latency_ms` < 1: the end-to-end criterion, queueing included. */
  readonly meets_latency_target: boolean;
  /** Mean `engine_own` < 1 ms: the time the engine adds around the teacher call, its group-commit wait included. */
  readonly meets_own_time_target: boolean;
}

/** Settings written into the result file. */
export interface TeacherEngineSettings {
  readonly requests_per_level: number;
  readonly warmup_requests: number;
  readonly concurrency_levels: readonly number[];
  readonly cache_entries: number;
  readonly teach_stage_examples: number;
  readonly teach_stage_concurrency: number;
  readonly server: string;
  readonly targets: {
    readonly requests_per_second: number;
    readonly added_latency_ms: number;
    readonly added_latency: string;
    readonly memory: string;
  };
}

function measurement(requests: number, run: { seconds: number; latencies: number[]; cpuMicroseconds: number }): ClientMeasurement {
  return {
    requests,
    seconds: round3(run.seconds),
    requests_per_second: Math.round(requests / run.seconds),
    cpu_ms_per_request: round3(run.cpuMicroseconds / 1000 / requests),
    latency: summariseLatencies(run.latencies),
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

function newEngine(teacher: Teacher, cache: TeacherCache | null, concurrency: number): RequestEngine {
  return new RequestEngine({
    teacher,
    pluginId: 'openai',
    pluginVersion: builtinDescriptor('teacher', 'openai').version,
    cache,
    clock: systemClock,
    httpSettings: defaultHttpSettings,
    limits: { concurrency },
    tokenCounter: null,
    events: new LocalEventStream(),
  });
}

async function measureConcurrency(
  baseUrl: string,
  teacher: Teacher,
  concurrency: number,
  requests: number,
  warmup: number,
  directory: string,
): Promise<ConcurrencyRow> {
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
  const measure = async (tag: string, call: (request: TeacherRequest) => Promise<unknown>) => {
    await runConcurrently(warmup, concurrency, (index) => call(uniqueRequest(`${tag}-warmup-${concurrency}`, index)).then(() => undefined));
    return measurement(
      requests,
      await runConcurrently(requests, concurrency, (index) => call(uniqueRequest(`${tag}-${concurrency}`, index)).then(() => undefined)),
    );
  };
  const raw = await measure('raw', rawCall);
  // A signal per call, as the engine gives it: the SDK adds an abort listener to the signal it gets
  // and never removes it, so one shared signal would collect thousands and slow every call down.
  const sdk = await measure('sdk', (request) => teacher.complete(request, new AbortController().signal));
  const cache = TeacherCache.open(path.join(directory, `engine-${concurrency}.sqlite`));
  try {
    // The bench's own instrumentation: the real teacher still makes every call; this only notes how
    // long each call took, so that the engine's time around it can be told apart.
    const teacherMilliseconds = new Map<string, number>();
    const commitMilliseconds = new Map<string, number>();
    const commit = cache.commit.bind(cache);
    cache.commit = (key, origin, response, createdAt) => {
      const started = performance.now();
      return commit(key, origin, response, createdAt).then(() => void commitMilliseconds.set(key, performance.now() - started));
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
    const engine = newEngine(timedTeacher, cache, concurrency);
    let ownMilliseconds: number[] = [];
    let commitWaitMilliseconds: number[] = [];
    const engineMeasurement = await measure('engine', async (request) => {
      const started = performance.now();
      const outcome = await engine.request(request, signal);
      const roundTrip = performance.now() - started;
      if (outcome.status !== 'answered' || outcome.cached)
        throw new Error(`the engine did not answer with a fresh call: ${JSON.stringify(outcome)}`);
      ownMilliseconds.push(roundTrip - teacherMilliseconds.get(request.exampleId)!);
      teacherMilliseconds.delete(request.exampleId);
      const key = engine.keyOf(request);
      commitWaitMilliseconds.push(commitMilliseconds.get(key)!);
      commitMilliseconds.delete(key);
    });
    // The last `requests` are the measured ones; the warm-up came first.
    ownMilliseconds = ownMilliseconds.slice(-requests);
    commitWaitMilliseconds = commitWaitMilliseconds.slice(-requests);
    const added = engineMeasurement.latency.mean_ms - raw.latency.mean_ms;
    const own = summariseLatencies(ownMilliseconds);
    return {
      concurrency,
      raw_fetch: raw,
      sdk_teacher: sdk,
      engine: engineMeasurement,
      engine_added_latency_ms: round3(added),
      sdk_added_latency_ms: round3(sdk.latency.mean_ms - raw.latency.mean_ms),
      engine_own: own,
      engine_commit_wait: summariseLatencies(commitWaitMilliseconds),
      engine_cpu_over_sdk_ms_per_request: round3(engineMeasurement.cpu_ms_per_request - sdk.cpu_ms_per_request),
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

async function measureCache(teacher: Teacher, entries: number, directory: string): Promise<CacheMeasurement> {
  const cache = TeacherCache.open(path.join(directory, 'hits.sqlite'));
  try {
    const engine = newEngine(teacher, cache, 64);
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
 * per second and added latency at each concurrency; cache-hit lookups per second; the teach
 * stage's memory over many examples with records streamed to disk.
 */
export async function runTeacherEngineBenchmark(mode: BenchMode) {
  const sizes = { smoke: [200, 50, 1000, 1000], quick: [2000, 300, 20000, 10000], full: [20000, 1000, 100000, 100000] }[mode];
  const [requests, warmup, cacheEntries, teachExamples] = sizes as [number, number, number, number];
  const levels = [1, 4, 16, 64, 256];
  const teachConcurrency = 64;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-engine-'));
  const server = await startLoopbackServer();
  try {
    const teacher = (await builtinDescriptor('teacher', 'openai').create(
      { model, base_url: server.baseUrl, api_key: 'bench-key', max_tokens: 64 },
      benchDependencies(),
    )) as Teacher;
    const rows: ConcurrencyRow[] = [];
    for (const concurrency of levels) {
      const row = await measureConcurrency(server.baseUrl, teacher, concurrency, requests, warmup, directory);
      console.log(
        `  concurrency ${concurrency}: raw ${row.raw_fetch.requests_per_second}/s, sdk ${row.sdk_teacher.requests_per_second}/s, engine ${row.engine.requests_per_second}/s, added ${row.engine_added_latency_ms} ms (mean difference), engine's own ${row.engine_own.mean_ms} ms mean / ${row.engine_own.p99_ms} ms p99 (of which commit wait ${row.engine_commit_wait.mean_ms} ms mean), CPU ms/request raw ${row.raw_fetch.cpu_ms_per_request} sdk ${row.sdk_teacher.cpu_ms_per_request} engine ${row.engine.cpu_ms_per_request}`,
      );
      rows.push(row);
    }
    const cache = await measureCache(teacher, cacheEntries, directory);
    console.log(`  cache: ${cache.lookups_per_second} lookups/s, engine hits ${cache.engine_hits_per_second_concurrency_1}/s`);
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
      concurrency_levels: levels,
      cache_entries: cacheEntries,
      teach_stage_examples: teachExamples,
      teach_stage_concurrency: teachConcurrency,
      server:
        'test/support/provider-server.ts (OpenAI chat-completions wire protocol, recorded response shape, answers at once) in a separate Node process on 127.0.0.1',
      targets: {
        requests_per_second: 1000,
        added_latency_ms: 1,
        added_latency:
          "checked twice: mean engine round trip minus mean raw fetch round trip (queueing included), and the engine's own time per request outside the teacher call",
        memory:
          'flat while records stream to disk: the live heap after full collections grows only by the keys of the examples done (kept for resume, about 0.1 KB each)',
      },
    };
    // The live heap comes from a second run of the same stage, with full collections at every 5%.
    return { settings, results: { concurrency: rows, cache, teach_stage: teachStage, teach_stage_live_heap: liveHeap } };
  } finally {
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}
