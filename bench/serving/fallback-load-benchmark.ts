import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FallbackPrediction } from '../../core/serving/fallback/fallback-router.js';
import { serveStudent } from '../../core/serving/serve-student.js';
import { loadPipeline } from '../../plugins/index.js';
import { calibratedStudent, writeFallbackPipeline } from '../../test/core/serving/fallback-fixture.js';
import { startProviderServer } from '../../test/support/provider-server.js';
import { round3, runConcurrently, summariseLatencies, type LatencySummary } from '../support/latency-statistics.js';
import { summariseRepeats, type RepeatSummary } from '../support/repeat-statistics.js';
import type { BenchMode } from '../support/result-file.js';

/** Settings written into the result file. */
export interface FallbackLoadSettings {
  readonly requests: number;
  readonly concurrency: number;
  readonly texts_per_request: number;
  readonly student: string;
  readonly teacher: string;
  readonly target: number;
  readonly threshold: number;
  readonly distinct_texts: number;
}

/** One round of the load: `requests` requests from `concurrency` clients. */
export interface FallbackLoadRound {
  readonly seconds: number;
  readonly requests_per_second: number;
  /** Responses other than 200, and requests that threw. Must be 0. */
  readonly errors: number;
  readonly latency: LatencySummary;
  readonly by_source: Readonly<Record<'student' | 'teacher', { readonly requests: number; readonly latency: LatencySummary }>>;
}

/** What the bench measured: each round, and medians over them with their range. */
export interface FallbackLoadResults {
  readonly repeats: number;
  readonly rounds: readonly FallbackLoadRound[];
  readonly requests_per_second: RepeatSummary;
  /** p50 and p99 latency by source, medians over the rounds with their range. */
  readonly latency_by_source: Readonly<
    Record<'student' | 'teacher' | 'all', { readonly p50_ms: RepeatSummary; readonly p99_ms: RepeatSummary }>
  >;
  /** Over all rounds. Must be 0. */
  readonly errors: number;
  /** Requests the loopback teacher received over all rounds: must equal the teacher-answered requests (the cache is off). */
  readonly teacher_requests_received: number;
  /** The server's own `/metrics` counts over all rounds, to compare with the client's. */
  readonly metrics_predictions: Readonly<Record<'student' | 'teacher', number>>;
}

function metricValue(text: string, sample: string): number {
  const line = text.split('\n').find((each) => each.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : Number.NaN;
}

/**
 * `distill serve --fallback` under a bounded load on loopback: the tiny trained T5 student of the tests
 * (`test/core/inference/tiny-student-fixture.ts`) with a calibration whose threshold is the median of
 * its confidences on the 24 fixture texts (so about half go to the teacher), and the loopback OpenAI
 * server of the tests (`test/support/provider-server.ts`, real SDK) answering at once, the teacher
 * cache off so every fallback is a real HTTP call. One text a request, a fixed number of clients.
 * Server, teacher and clients share this process, so the figures include their competition for it.
 * The load runs `repeats` times on the same server (the first round warms it up as much as any), and
 * each figure is the median over the rounds with its range.
 */
export async function runFallbackLoadBenchmark(mode: BenchMode): Promise<{ settings: FallbackLoadSettings; results: FallbackLoadResults }> {
  const requests = mode === 'smoke' ? 100 : 2000;
  const repeats = mode === 'smoke' ? 1 : 5;
  const concurrency = 8;
  const directory = mkdtempSync(path.join(os.tmpdir(), 'distill-bench-fallback-'));
  const teacher = await startProviderServer('openai', () => ({
    kind: 'answer',
    text: 'Answer: neutral, because the loopback teacher says so.',
  }));
  try {
    const student = await calibratedStudent(directory);
    const pipeline = await loadPipeline(writeFallbackPipeline({ directory, baseUrl: teacher.baseUrl, cache: false }));
    const server = await serveStudent({
      model: student.model,
      port: 0,
      // Every client may wait: a 503 for a full queue would be an error of the bench's own making.
      limits: { maxQueuedPredictions: concurrency },
      fallback: { pipeline, target: 0.9, warn: () => undefined },
    });
    try {
      const texts = [...student.sure, ...student.unsure].map((each) => each.text);
      const rounds: FallbackLoadRound[] = [];
      for (let round = 0; round < repeats; round++) rounds.push(await loadRound(server.url, texts, requests, concurrency));
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const latencyOf = (source: 'student' | 'teacher' | 'all') => {
        const summaries = rounds.map((each) => (source === 'all' ? each.latency : each.by_source[source].latency));
        return {
          p50_ms: summariseRepeats(summaries.map((each) => each.p50_ms)),
          p99_ms: summariseRepeats(summaries.map((each) => each.p99_ms)),
        };
      };
      return {
        settings: {
          requests,
          concurrency,
          texts_per_request: 1,
          student: 'tiny trained T5 test fixture (test/core/inference/tiny-student-fixture.ts), fp32, 1 thread, label scoring of 3 labels',
          teacher:
            'loopback OpenAI server of the tests (test/support/provider-server.ts), in process, answering at once; official SDK; teacher cache off',
          target: 0.9,
          threshold: round3(student.threshold),
          distinct_texts: texts.length,
        },
        results: {
          repeats,
          rounds,
          requests_per_second: summariseRepeats(rounds.map((each) => each.requests_per_second)),
          latency_by_source: { student: latencyOf('student'), teacher: latencyOf('teacher'), all: latencyOf('all') },
          errors: rounds.reduce((total, each) => total + each.errors, 0),
          teacher_requests_received: teacher.requests.length,
          metrics_predictions: {
            student: metricValue(metrics, 'distill_predictions_total{source="student"}'),
            teacher: metricValue(metrics, 'distill_predictions_total{source="teacher"}'),
          },
        },
      };
    } finally {
      await server.close();
    }
  } finally {
    await teacher.close();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** One round: `requests` requests of one text each from `concurrency` clients, timed, with who answered each. */
async function loadRound(url: string, texts: readonly string[], requests: number, concurrency: number): Promise<FallbackLoadRound> {
  const sources = new Array<'student' | 'teacher' | 'error'>(requests);
  const run = await runConcurrently(requests, concurrency, async (index) => {
    try {
      const response = await fetch(`${url}/predict`, { method: 'POST', body: JSON.stringify({ inputs: [texts[index % texts.length]] }) });
      const body = (await response.json()) as { predictions?: FallbackPrediction[] };
      sources[index] = response.status === 200 && body.predictions?.[0] ? body.predictions[0].source : 'error';
    } catch {
      sources[index] = 'error';
    }
  });
  const latenciesOf = (source: 'student' | 'teacher') => run.latencies.filter((_, index) => sources[index] === source);
  return {
    seconds: round3(run.seconds),
    requests_per_second: round3(requests / run.seconds),
    errors: sources.filter((source) => source === 'error').length,
    latency: summariseLatencies(run.latencies),
    by_source: {
      student: { requests: latenciesOf('student').length, latency: summariseLatencies(latenciesOf('student')) },
      teacher: { requests: latenciesOf('teacher').length, latency: summariseLatencies(latenciesOf('teacher')) },
    },
  };
}
