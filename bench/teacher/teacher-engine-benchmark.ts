import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
  /** Mean round trip of the engine minus the raw client's at the same concurrency. */
  readonly engine_added_latency_ms: number;
  /** Of which the SDK (teacher plugin minus raw client). */
  readonly sdk_added_latency_ms: number;
  readonly meets_throughput_target: boolean;
  readonly meets_latency_target: boolean;
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
  readonly targets: { readonly requests_per_second: number; readonly added_latency_ms: number; readonly memory: string };
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
    messages: [{ role: 'user', content: `Based on A man walks along the river (scene ${tag}-${index}), determine whether the claim "A man is outside." is true, false, or inconclusive?` }],
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

async function measureConcurrency(baseUrl: string, teacher: Teacher, concurrency: number, requests: number, warmup: number, directory: string): Promise<ConcurrencyRow> {
  const signal = new AbortController().signal;
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
    return measurement(requests, await runConcurrently(requests, concurrency, (index) => call(uniqueRequest(`${tag}-${concurrency}`, index)).then(() => undefined)));
  };
  const raw = await measure('raw', rawCall);
  const sdk = await measure('sdk', (request) => teacher.complete(request, signal));
  const cache = TeacherCache.open(path.join(directory, `engine-${concurrency}.sqlite`));
  try {
    const engine = newEngine(teacher, cache, concurrency);
    const engineMeasurement = await measure('engine', async (request) => {
      const outcome = await engine.request(request, signal);
      if (outcome.status !== 'answered' || outcome.cached) throw new Error(`the engine did not answer with a fresh call: ${JSON.stringify(outcome)}`);
    });
    const added = engineMeasurement.latency.mean_ms - raw.latency.mean_ms;
    return {
      concurrency,
      raw_fetch: raw,
      sdk_teacher: sdk,
      engine: engineMeasurement,
      engine_added_latency_ms: round3(added),
      sdk_added_latency_ms: round3(sdk.latency.mean_ms - raw.latency.mean_ms),
      meets_throughput_target: engineMeasurement.requests_per_second >= 1000,
      meets_latency_target: added < 1,
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
    const answer = { text: 'The claim is true. The premise states that the event took place in Paris, so the hypothesis follows from it.', usage: { promptTokens: 42, completionTokens: 24 }, model, finishReason: 'stop' };
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

/** Runs the teach stage in a fresh Node process, so its memory is the stage's alone. */
function measureTeachStage(baseUrl: string, examples: number, concurrency: number, directory: string): Promise<TeachMemoryResult> {
  const program = path.join(path.dirname(fileURLToPath(import.meta.url)), 'teach-stage-memory-process.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [program, baseUrl, String(examples), String(concurrency), directory], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the teach-stage memory process exited with code ${code}`));
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
    const teacher = (await builtinDescriptor('teacher', 'openai').create({ model, base_url: server.baseUrl, api_key: 'bench-key', max_tokens: 64 }, benchDependencies())) as Teacher;
    const rows: ConcurrencyRow[] = [];
    for (const concurrency of levels) {
      const row = await measureConcurrency(server.baseUrl, teacher, concurrency, requests, warmup, directory);
      console.log(`  concurrency ${concurrency}: raw ${row.raw_fetch.requests_per_second}/s, sdk ${row.sdk_teacher.requests_per_second}/s, engine ${row.engine.requests_per_second}/s, added ${row.engine_added_latency_ms} ms`);
      rows.push(row);
    }
    const cache = await measureCache(teacher, cacheEntries, directory);
    console.log(`  cache: ${cache.lookups_per_second} lookups/s, engine hits ${cache.engine_hits_per_second_concurrency_1}/s`);
    const teachStage = await measureTeachStage(server.baseUrl, teachExamples, teachConcurrency, directory);
    console.log(`  teach stage: ${teachStage.examples} examples, peak RSS ${teachStage.peak_rss_megabytes} MB`);
    const settings: TeacherEngineSettings = {
      requests_per_level: requests,
      warmup_requests: warmup,
      concurrency_levels: levels,
      cache_entries: cacheEntries,
      teach_stage_examples: teachExamples,
      teach_stage_concurrency: teachConcurrency,
      server: 'test/support/provider-server.ts (OpenAI chat-completions wire protocol, recorded response shape, answers at once) in a separate Node process on 127.0.0.1',
      targets: { requests_per_second: 1000, added_latency_ms: 1, memory: 'flat while records stream to disk' },
    };
    return { settings, results: { concurrency: rows, cache, teach_stage: teachStage } };
  } finally {
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}
