/**
 * Pushes N generated examples through the real teach stage (template prompt, `openai` teacher
 * against the loopback server, zero-shot parser, SQLite cache, records appended to a JSONL file)
 * in a process of its own, sampling its memory as it goes, and prints one JSON line of results.
 *
 *   node [--expose-gc] teach-stage-memory-process.js <baseUrl> <examples> <concurrency> <directory>
 *
 * Two kinds of sample. Every 250 ms, RSS and heap as they are: what the machine sees, garbage
 * included, so they rise and fall with the collector's pace. With `--expose-gc`, also at every 5% of
 * the examples, the live heap after a full collection: what the stage really keeps, the measure of
 * whether memory grows with the examples. Those collections trim RSS as well, so a bench takes RSS
 * and peak from a run without them.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import type { Prompt } from '../../core/plugins/kinds/prompt.js';
import type { Teacher } from '../../core/plugins/kinds/teacher.js';
import { runTeachStage } from '../../core/teacher/teach-stage.js';
import { TeacherCache } from '../../core/teacher/teacher-cache.js';
import { systemClock } from '../../core/services/clock.js';
import { LocalEventStream } from '../../core/services/event-stream.js';
import { defaultHttpSettings } from '../../core/services/http-settings.js';
import { benchDependencies, builtinDescriptor } from '../support/bench-dependencies.js';
import { generatedNliDataset } from './generated-nli-dataset.js';

/** One memory sample. */
interface MemorySample {
  readonly seconds: number;
  /** Examples written to the output when the sample was taken. */
  readonly done: number;
  readonly rss_megabytes: number;
  readonly heap_used_megabytes: number;
}

/** The live heap at one point of progress, after a full garbage collection. */
export interface LiveHeapSample {
  readonly done: number;
  readonly live_heap_megabytes: number;
}

/** What this program prints. */
export interface TeachMemoryResult {
  readonly examples: number;
  readonly concurrency: number;
  readonly seconds: number;
  readonly examples_per_second: number;
  readonly failed: number;
  readonly rss_before_megabytes: number;
  readonly peak_rss_megabytes: number;
  /** RSS when 10%, 25%, 50%, 75% and 100% of the examples were done. */
  readonly rss_at_progress_megabytes: Readonly<Record<string, number>>;
  readonly heap_used_at_progress_megabytes: Readonly<Record<string, number>>;
  /** Least-squares slope of RSS against examples done, from 10% on, in megabytes per 10,000 examples. */
  readonly rss_growth_megabytes_per_10k_examples: number;
  readonly heap_growth_megabytes_per_10k_examples: number;
  /** Live heap after a full collection at every 5% of the examples (null without `--expose-gc`). */
  readonly live_heap_samples: readonly LiveHeapSample[] | null;
  /** Least-squares slope of the live heap against examples done, from 10% on, per 10,000 examples: what is retained per example. */
  readonly live_heap_growth_megabytes_per_10k_examples: number | null;
  readonly output_file_megabytes: number;
  readonly samples: readonly MemorySample[];
}

const megabytes = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

function slopePer10k(points: readonly { x: number; y: number }[]): number {
  const count = points.length;
  if (count < 2) return Number.NaN;
  const meanX = points.reduce((total, point) => total + point.x, 0) / count;
  const meanY = points.reduce((total, point) => total + point.y, 0) / count;
  const covariance = points.reduce((total, point) => total + (point.x - meanX) * (point.y - meanY), 0);
  const variance = points.reduce((total, point) => total + (point.x - meanX) ** 2, 0);
  return Math.round((covariance / variance) * 10000 * 100) / 100;
}

async function main(): Promise<void> {
  const [baseUrl, examplesText, concurrencyText, directory] = process.argv.slice(2);
  if (!baseUrl || !examplesText || !concurrencyText || !directory)
    throw new Error('usage: teach-stage-memory-process.js <baseUrl> <examples> <concurrency> <directory>');
  const examples = Number(examplesText);
  const concurrency = Number(concurrencyText);
  const dependencies = benchDependencies();
  const prompt = (await builtinDescriptor('prompt', 'template').create({ name: 'nli-zero-shot' }, dependencies)) as Prompt;
  const parser = (await builtinDescriptor('parser', 'zero-shot').create({ template: 'nli-zero-shot' }, dependencies)) as Parser;
  const teacherDescriptor = builtinDescriptor('teacher', 'openai');
  const teacher = (await teacherDescriptor.create(
    { model: 'gpt-4o-mini', base_url: baseUrl, api_key: 'bench-key', max_tokens: 64 },
    dependencies,
  )) as Teacher;
  const cache = TeacherCache.open(path.join(directory, 'teach-stage.sqlite'));
  const outputFile = path.join(directory, 'teach-stage', 'teacher-records.jsonl');
  const events = new LocalEventStream();
  let done = 0;
  const collect = (globalThis as { gc?: () => void }).gc;
  const liveHeap: LiveHeapSample[] = [];
  let nextLiveSample = 0;
  events.subscribe((event) => {
    if (event.type !== 'teacher.progress') return;
    done = Number(event.done);
    if (collect && done >= nextLiveSample) {
      collect();
      liveHeap.push({ done, live_heap_megabytes: megabytes(process.memoryUsage().heapUsed) });
      nextLiveSample = done + Math.max(1, Math.floor(examples / 20));
    }
  });

  const rssBefore = process.memoryUsage().rss;
  const samples: MemorySample[] = [];
  const started = performance.now();
  const sample = () => {
    const usage = process.memoryUsage();
    samples.push({
      seconds: Math.round((performance.now() - started) / 100) / 10,
      done,
      rss_megabytes: megabytes(usage.rss),
      heap_used_megabytes: megabytes(usage.heapUsed),
    });
  };
  sample();
  const sampler = setInterval(sample, 250);
  let report;
  try {
    report = await runTeachStage({
      dataset: generatedNliDataset(examples),
      prompt,
      parser,
      teacher,
      teacherPluginId: teacherDescriptor.id,
      teacherPluginVersion: teacherDescriptor.version,
      splits: [{ split: 'train' }],
      limits: { concurrency },
      cache,
      outputFile,
      events,
      signal: new AbortController().signal,
      clock: systemClock,
      httpSettings: defaultHttpSettings,
    });
  } finally {
    clearInterval(sampler);
    cache.close();
  }
  const seconds = (performance.now() - started) / 1000;
  sample();
  const atProgress = (fraction: number, field: 'rss_megabytes' | 'heap_used_megabytes') =>
    samples.find((each) => each.done >= fraction * examples)?.[field] ?? Number.NaN;
  const fractions = [0.1, 0.25, 0.5, 0.75, 1];
  const late = samples.filter((each) => each.done >= 0.1 * examples);
  // Keep the printed series short: about 60 samples spread over the run.
  const stride = Math.max(1, Math.ceil(samples.length / 60));
  const result: TeachMemoryResult = {
    examples,
    concurrency,
    seconds: Math.round(seconds * 10) / 10,
    examples_per_second: Math.round(examples / seconds),
    failed: report.failed,
    rss_before_megabytes: megabytes(rssBefore),
    peak_rss_megabytes: Math.max(...samples.map((each) => each.rss_megabytes)),
    rss_at_progress_megabytes: Object.fromEntries(
      fractions.map((fraction) => [`${fraction * 100}%`, atProgress(fraction, 'rss_megabytes')]),
    ),
    heap_used_at_progress_megabytes: Object.fromEntries(
      fractions.map((fraction) => [`${fraction * 100}%`, atProgress(fraction, 'heap_used_megabytes')]),
    ),
    rss_growth_megabytes_per_10k_examples: slopePer10k(late.map((each) => ({ x: each.done, y: each.rss_megabytes }))),
    heap_growth_megabytes_per_10k_examples: slopePer10k(late.map((each) => ({ x: each.done, y: each.heap_used_megabytes }))),
    live_heap_samples: collect ? liveHeap : null,
    live_heap_growth_megabytes_per_10k_examples: collect
      ? slopePer10k(liveHeap.filter((each) => each.done >= 0.1 * examples).map((each) => ({ x: each.done, y: each.live_heap_megabytes })))
      : null,
    output_file_megabytes: megabytes(statSync(outputFile).size),
    samples: samples.filter((_, index) => index % stride === 0 || index === samples.length - 1),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
