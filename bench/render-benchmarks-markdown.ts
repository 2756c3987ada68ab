/**
 * Writes `BENCHMARKS.md` from the result files in `bench/results/`, so every figure in it is one
 * a bench wrote in its last run (never typed by hand). Run by `run-benchmarks.ts` at the end, or
 * alone: `node dist/bench/render-benchmarks-markdown.js`.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchResultFile, readBenchResult, type BenchResult } from './support/result-file.js';
import { repositoryRoot, resultsDirectory } from './support/bench-paths.js';
import { formatNumber, markdownTable } from './support/markdown-table.js';
import type { CpuDescription, MachineInfo } from './support/machine-info.js';
import type { FallbackLoadResults, FallbackLoadSettings } from './serving/fallback-load-benchmark.js';

// The result shapes, as far as the tables read them (the benches' own types are richer).
interface ModelCost {
  model: string;
  counter: string;
  zero_shot: { template: string; prompt_tokens_per_example: number; usd_per_1000_examples: number };
  few_shot: { template: string; shots: number; prompt_tokens_per_example: number; usd_per_1000_examples: number };
  completion_tokens_per_example: number;
  prompt_token_ratio: number;
  cost_ratio: number;
  prompt_ratio_meets_target: boolean;
  cost_ratio_meets_target: boolean;
}
interface CostRow {
  dataset: string;
  split: string;
  examples: number;
  models: ModelCost[];
}
interface ClientMeasurement {
  requests_per_second: number;
  /** Median, min and max over interleaved repeats; absent from results of one run per level. */
  requests_per_second_range?: { median: number; min: number; max: number };
  cpu_ms_per_request: number;
  latency: { mean_ms: number; p50_ms: number; p99_ms: number };
}
interface EngineResults {
  concurrency: {
    concurrency: number;
    raw_fetch: ClientMeasurement;
    sdk_teacher: ClientMeasurement;
    engine: ClientMeasurement;
    engine_added_latency_ms: number;
    sdk_added_latency_ms: number;
    /** Absent from results written before the bench measured it. */
    engine_own?: { mean_ms: number; p50_ms: number; p99_ms: number };
    engine_commit_wait?: { mean_ms: number; p50_ms: number; p99_ms: number };
    engine_cpu_over_sdk_ms_per_request?: number;
    /** Absent from results written before the engine ran with accounting on, interleaved with the SDK. */
    engine_share_of_sdk?: { median: number; min: number; max: number };
    meets_sdk_share_target?: boolean;
    /** Absent from results written before the bench ran the engine without its cache beside the others. */
    engine_without_cache?: ClientMeasurement;
    engine_without_cache_share_of_sdk?: { median: number; min: number; max: number };
    accounting?: { prompts_bounded: number; prompts_counted: number; budget_requests: number; budget_usd: number };
  }[];
  cache: {
    entries: number;
    puts_per_second: number;
    lookups_per_second: number;
    engine_hits_per_second_concurrency_1: number;
    engine_hits_per_second_concurrency_64: number;
  };
  teach_stage: {
    examples: number;
    concurrency: number;
    examples_per_second: number;
    rss_before_megabytes: number;
    peak_rss_megabytes: number;
    rss_at_progress_megabytes: Record<string, number>;
    heap_used_at_progress_megabytes: Record<string, number>;
    rss_growth_megabytes_per_10k_examples: number;
    heap_growth_megabytes_per_10k_examples: number;
    output_file_megabytes: number;
    failed: number;
  };
  /** The engine's steps changed by issue 18, before and after in the same run; absent from results written before. */
  steps?: {
    step: string;
    before: string;
    after: string;
    operations: number;
    before_microseconds: RepeatSpread;
    after_microseconds: RepeatSpread;
  }[];
  /** Absent from results written before the bench measured it. */
  teach_stage_live_heap?: {
    samples: { done: number; live_heap_megabytes: number }[] | null;
    growth_megabytes_per_10k_examples: number | null;
  };
}
interface TrainerRun {
  variant: string;
  precision: 'fp32' | 'bf16';
  options?: { task_passes: string; bf16: boolean | 'auto'; spinning?: boolean | 'auto' };
  steps_per_second: number;
  tokens_per_second: number;
  gflops: number;
  share_of_matmul_peak: number;
  share_of_fp32_matmul_peak: number;
  peak_rss_megabytes: number;
}
interface TrainerResults {
  worker_defaults: { task_passes: string; bf16: boolean | 'auto'; spinning?: boolean | 'auto' };
  cpu_bf16_supported: boolean;
  matmul_peak_gflops: Record<'fp32' | 'bf16', Record<string, { before: number; after: number }>>;
  points: {
    name: string;
    config: { d_model: number; d_ff: number; num_heads: number; num_layers: number; num_decoder_layers: number };
    batch_size: number;
    threads: number;
    data: { examples: number; mean_tokens_per_example: number; mean_training_gflop_per_example: number; vocabulary: number };
    matmul_peak_gflops: Record<'fp32' | 'bf16', number>;
    workers: TrainerRun[];
    references: TrainerRun[];
    speedup_over_reference: Record<string, number>;
    speedup_over_same_precision_reference: Record<string, number>;
  }[];
}

/** Median and spread (min, max) of repeats, as `trainer_benchmark.py` writes them (null where nothing was measured). */
interface RepeatSpread {
  median: number;
  min: number;
  max: number;
  values: (number | null)[];
}
interface FairTrainerRun {
  variant: string;
  precision: 'fp32' | 'bf16';
  options?: Record<string, unknown>;
  sampling?: string;
  autocast?: { enabled: boolean; dtype: string; lm_head_output: string };
  headline?: boolean;
  repeats: number;
  steps_per_second: RepeatSpread;
  tokens_per_second: RepeatSpread;
  gflops: RepeatSpread;
  share_of_bf16_matmul_peak: RepeatSpread | null;
  executed_over_real_flops: number | null;
  peak_rss_megabytes: number;
}
interface MatmulPeak {
  gflops: RepeatSpread;
  kernel: string;
  size: number;
  threads: number;
  cpu_seconds_per_wall_second: RepeatSpread;
  ceiling_gflops: number | null;
  share_of_ceiling: number | null;
  refused: boolean;
  /** Fewer than 80% of the threads busy while timing (absent before issue 18's last change). */
  starved?: boolean;
}
interface TargetCheck {
  variant: string;
  required: number;
  measured: number | null;
  met: boolean;
  why_not_measured?: string;
}
/** Results of the trainer bench from issue 18 on: repeats, the fair reference, checked peaks. */
interface FairTrainerResults {
  worker_defaults: { task_passes: string; bf16: boolean | 'auto'; spinning?: boolean | 'auto' };
  cpu_bf16_supported: boolean;
  repeats: number;
  spread: string;
  hardware_ceiling: {
    cores: number;
    clock_mhz: number | null;
    clock_source: { lscpu_max_mhz: number | null; cpufreq_max_mhz: number | null; measured_mhz: number | null; nominal_mhz: number | null };
    vector_datapath: string;
    bf16_instruction: string;
    flops_per_cycle_per_core: Record<'float32' | 'bfloat16', number>;
    gflops_per_core: Record<'float32' | 'bfloat16', number | null>;
  };
  matmul_peak: Record<string, Record<'fp32' | 'bf16', MatmulPeak>>;
  points: {
    name: string;
    config: { d_model: number; d_ff: number; num_heads: number; num_layers: number; num_decoder_layers: number };
    batch_size: number;
    threads: number;
    data: { examples: number; mean_tokens_per_example: number; mean_training_gflop_per_example: number; vocabulary: number };
    workers: FairTrainerRun[];
    references: FairTrainerRun[];
    headline_reference: string;
    speedup_over_reference: Record<string, RepeatSpread | null>;
    speedup_over_each_reference: Record<string, Record<string, RepeatSpread | null>>;
    targets: { speedup_over_headline_reference?: TargetCheck; share_of_bf16_matmul_peak?: TargetCheck };
  }[];
}

/** A bench's full-mode result where one was run, else its quick one. */
function readResult<Results>(bench: string): BenchResult<Record<string, unknown>, Results> | null {
  return (
    readBenchResult<Record<string, unknown>, Results>(bench, 'full') ?? readBenchResult<Record<string, unknown>, Results>(bench, 'quick')
  );
}

function provenance(result: BenchResult<unknown, unknown>): string {
  const machine = result.machine;
  const resultPath = path.relative(repositoryRoot, benchResultFile(result.bench, result.mode)).split(path.sep).join('/');
  return [
    `- Run: \`${result.command}\` (${result.mode} mode), started ${result.started_at}, ${formatNumber(result.seconds, 1)} s.`,
    `- Machine: ${machine.cpu_model}, ${machine.cores} cores, ${machine.memory_gib} GiB, ${machine.os}; Node ${machine.node}, Python ${machine.python ?? 'n/a'}, torch ${machine.torch ?? 'n/a'}, transformers ${machine.transformers ?? 'n/a'}.`,
    `- Load average (1, 5, 15 min) at start ${result.load_average_at_start.join(', ')}, at end ${result.load_average_at_end.join(', ')}.`,
    `- Data behind the table: [\`${resultPath}\`](${resultPath}).`,
  ].join('\n');
}

function teacherCostSection(): string {
  const result = readResult<CostRow[]>('teacher-cost');
  const heading = '## Teacher cost: zero-shot against few-shot prompts (issue 7, item 4)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only teacher-cost\`.`;
  const rows = result.results.flatMap((row) =>
    row.models.map((model) => [
      row.dataset,
      `${row.split} (${formatNumber(row.examples)})`,
      model.model,
      formatNumber(model.zero_shot.prompt_tokens_per_example, 1),
      `${formatNumber(model.few_shot.prompt_tokens_per_example, 1)} (${model.few_shot.shots} shots)`,
      formatNumber(model.completion_tokens_per_example, 1),
      `${formatNumber(model.prompt_token_ratio, 2)}×`,
      model.prompt_ratio_meets_target ? 'yes' : 'no',
      `$${formatNumber(model.zero_shot.usd_per_1000_examples, 4)}`,
      `$${formatNumber(model.few_shot.usd_per_1000_examples, 4)}`,
      `${formatNumber(model.cost_ratio, 2)}×`,
      model.cost_ratio_meets_target ? 'yes' : 'no',
    ]),
  );
  const settings = result.settings as { completion_length_source: string; target_ratio: number; examples_per_dataset: number | string };
  return `${heading}

${provenance(result)}

Prompt tokens: every prompt rendered by the \`template\` prompt plugin (the paper's zero-shot templates;
the built-in few-shot chain-of-thought templates with their default shot counts) over the real dsbs
data (${settings.examples_per_dataset === 'all' ? 'every example of the split' : `the first ${settings.examples_per_dataset} examples of each split`}), counted with the project's token counter
(\`core/teacher/token-counter.ts\`, tiktoken, chat framing included). Completion tokens: ${settings.completion_length_source}.
Dollars: the project's price table (\`core/teacher/price-table.ts\`). Target: few-shot/zero-shot ≥ ${settings.target_ratio}×, checked for
prompt tokens (what the zero-shot prompt saves) and for dollars (completions, charged alike to both prompts, pull the dollar ratio down).

${markdownTable(
  [
    'dataset',
    'split (examples)',
    'model',
    'zero-shot prompt tok/ex',
    'few-shot prompt tok/ex',
    'completion tok/ex',
    'prompt ratio',
    `prompt ≥ ${settings.target_ratio}×`,
    'zero-shot $/1k ex',
    'few-shot $/1k ex',
    'cost ratio',
    `cost ≥ ${settings.target_ratio}×`,
  ],
  rows,
)}`;
}

function teacherEngineSection(): string {
  const result = readResult<EngineResults>('teacher-engine');
  const heading = '## Teacher engine (issue 7, item 2)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only teacher-engine\`.`;
  const settings = result.settings as {
    requests_per_level: number;
    warmup_requests: number;
    /** Absent from results of one run per level. */
    repeats?: number;
    accounting?: {
      token_counter: string;
      requests_per_minute: number;
      tokens_per_minute: number;
      budget_max_usd: number;
      budget_max_requests: number;
      price: string;
    };
  };
  const { concurrency, cache, steps, teach_stage: stage, teach_stage_live_heap: liveHeap } = result.results;
  const throughput = (measurement: ClientMeasurement) => {
    const range = measurement.requests_per_second_range;
    return range
      ? `${formatNumber(range.median)} (${formatNumber(range.min)}–${formatNumber(range.max)})`
      : formatNumber(measurement.requests_per_second);
  };
  const engineRows = concurrency.map((row) => [
    row.concurrency,
    throughput(row.raw_fetch),
    throughput(row.sdk_teacher),
    throughput(row.engine),
    row.engine_share_of_sdk ? percentSpread(row.engine_share_of_sdk) : 'n/a',
    row.meets_sdk_share_target === undefined ? 'n/a' : row.meets_sdk_share_target ? 'met' : '**missed**',
    formatNumber(row.raw_fetch.latency.mean_ms, 3),
    formatNumber(row.engine.latency.mean_ms, 3),
    formatNumber(row.engine.latency.p99_ms, 3),
    formatNumber(row.engine_added_latency_ms, 3),
    formatNumber(row.sdk_added_latency_ms, 3),
    row.engine_own ? `${formatNumber(row.engine_own.mean_ms, 3)} / ${formatNumber(row.engine_own.p99_ms, 3)}` : 'n/a',
    formatNumber(row.engine_commit_wait?.mean_ms, 3),
    `${formatNumber(row.raw_fetch.cpu_ms_per_request, 3)} / ${formatNumber(row.sdk_teacher.cpu_ms_per_request, 3)} / ${formatNumber(row.engine.cpu_ms_per_request, 3)}`,
    formatNumber(row.engine_cpu_over_sdk_ms_per_request, 3),
    row.engine.requests_per_second >= 1000 ? 'yes' : 'no',
    row.engine_added_latency_ms < 1 ? 'yes' : 'no',
    row.engine_own ? (row.engine_own.mean_ms < 1 ? 'yes' : 'no') : 'n/a',
  ]);
  const accounting = settings.accounting;
  const counted = concurrency.map((row) => row.accounting).filter((counts) => counts !== undefined);
  const accountingText = accounting
    ? `The engine runs with its accounting on, as a teach stage runs it (\`teachEngine\`): the teacher's token counter
(${accounting.token_counter}), limits of ${formatNumber(accounting.requests_per_minute)} requests and
${formatNumber(accounting.tokens_per_minute)} tokens per minute (evaluated on every request, never binding here), and a
budget of $${formatNumber(accounting.budget_max_usd)} and ${formatNumber(accounting.budget_max_requests)} requests asked before every call and paid after it
at the teacher's list price (${accounting.price}). Over all concurrencies the budget admitted and paid
${formatNumber(counted.reduce((total, counts) => total + counts.budget_requests, 0))} requests ($${formatNumber(
        counted.reduce((total, counts) => total + counts.budget_usd, 0),
        4,
      )}); the token counter bounded ${formatNumber(counted.reduce((total, counts) => total + counts.prompts_bounded, 0))} prompts
by their UTF-8 bytes and tokenized ${formatNumber(counted.reduce((total, counts) => total + counts.prompts_counted, 0))}: the rate limiter asks for the exact
count only when a bound would make a request wait, so its decisions are those of exact counts.

Raw, SDK and engine (and the engine without its cache, below the table) run interleaved, their order rotated each
round (raw, SDK, engine, …; SDK, engine, …, raw; …) so that no level always runs in the wake of the same other one, for ${settings.repeats ?? 1} repeats of
${formatNumber(settings.requests_per_level)} requests at each concurrency, after a warm-up of each; req/s columns are the median
with the range (min–max) over the repeats. *engine / SDK* is the engine's requests/s over the SDK's in the same
round, median (min–max); the target is a median of at least 90% at every concurrency. Latency columns pool every
request of every repeat.
`
    : `These rows come from a run before issue 18: the engine without token counting, rate limits or budget, and
one run per level, not interleaved: \`npm run bench -- --only teacher-engine\` measures them again.
`;
  const progressPoints = Object.keys(stage.rss_at_progress_megabytes);
  return `${heading}

${provenance(result)}

The loopback OpenAI wire-protocol server of the tests (\`test/support/provider-server.ts\`) runs in a
separate Node process and answers every request at once. Each level sends ${formatNumber(settings.requests_per_level)} requests with
distinct prompts (every one a cache miss) after ${formatNumber(settings.warmup_requests)} warm-up requests, with exactly N in flight.
*raw fetch*: \`fetch\` POST + JSON parse, the transport the \`openai\` SDK uses; *SDK*: the \`openai\` teacher
plugin's \`complete\` (official SDK, a fresh abort signal per call as the engine gives it); *engine*:
\`RequestEngine.request\` with the SQLite cache on (hash, lookup, slot, SDK call, commit of each answer).

${accountingText}
Two measures of added latency, because they answer different questions:

- *engine added ms* = mean engine round trip − mean raw round trip at the same concurrency. It includes
  the SDK (*of which SDK ms*) and, once the client is CPU-bound, queueing: with the server answering at
  once on the same cores, mean latency ≈ concurrency / throughput (Little's law), so every extra
  microsecond of CPU per request, the SDK's or the engine's, is multiplied by the queue. At saturation
  this column is dominated by queueing, not by anything one request does.
- *engine own ms* (mean / p99) = each request's engine round trip − the time inside the teacher's
  \`complete\` (the SDK call and the network), measured per request by timing the teacher call inside
  the engine: the cache lookup, key hash, slot, token bound, limiter, budget, timeout set-up and the commit
  of the answer, plus any wait behind other requests' work on the same thread between those steps. *of
  which commit wait* is the time from handing the answer to the cache to its commit: answers that arrive
  in the same turn of the event loop share one transaction (group commit), so an answer waits for the rest
  of its turn to be handled first. With many requests in flight that wait is queueing for the CPU, and it
  is what buys the throughput: one commit per turn instead of one per answer. With no other call out, the
  answer is committed at once.

*CPU ms/req* is the client process's CPU time per request (raw / SDK / engine, medians over the repeats);
*engine CPU over SDK* is engine − SDK: the engine's own work per request, without any queueing. It can be
below zero with many requests in flight: after each group commit the engine's requests go on together, so
the SDK and \`fetch\` under it handle their sockets in larger batches than the bare SDK loop does. Targets:
engine ≥ 90% of the SDK's requests/s (issue 18); ≥ 1,000 requests/s; < 1 ms added, checked both on the mean
difference (*< 1 ms end to end*) and on the engine's own time (*< 1 ms own*).

${markdownTable(
  [
    'concurrency',
    'raw req/s',
    'SDK req/s',
    'engine req/s',
    'engine / SDK',
    '≥ 90% of SDK',
    'raw mean ms',
    'engine mean ms',
    'engine p99 ms',
    'engine added ms',
    'of which SDK ms',
    'engine own ms mean / p99',
    'of which commit wait ms',
    'CPU ms/req raw / SDK / engine',
    'engine CPU over SDK ms/req',
    '≥ 1,000/s',
    '< 1 ms end to end',
    '< 1 ms own',
  ],
  engineRows,
)}

${withoutCacheTable(concurrency)}${stepsTable(steps)}Cache (${formatNumber(cache.entries)} entries in one SQLite file, WAL):

${markdownTable(
  ['puts/s (one commit each)', 'lookups/s (TeacherCache.get)', 'engine cache hits/s, 1 in flight', 'engine cache hits/s, 64 in flight'],
  [
    [
      formatNumber(cache.puts_per_second),
      formatNumber(cache.lookups_per_second),
      formatNumber(cache.engine_hits_per_second_concurrency_1),
      formatNumber(cache.engine_hits_per_second_concurrency_64),
    ],
  ],
)}

Teach stage memory: ${formatNumber(stage.examples)} generated NLI examples through \`runTeachStage\` (template prompt, \`openai\`
teacher against the loopback server, zero-shot parser, SQLite cache, records appended to JSONL), concurrency
${stage.concurrency}, in a fresh Node process sampling \`process.memoryUsage()\` every 250 ms: RSS and heap as they are,
garbage included, so they rise and fall with the collector's pace. A second run of the same stage, with
\`--expose-gc\`, takes the live heap after a full collection at every 5% of the examples: what the stage
really keeps (its RSS is not reported, the forced collections trim it). Growth columns are least-squares
slopes from 10% of the examples on; the live heap's is the measure of whether memory grows with the examples.

${markdownTable(
  [
    'examples/s',
    'RSS before',
    'peak RSS',
    ...progressPoints.map((point) => `RSS at ${point}`),
    'RSS growth per 10k ex',
    'heap growth per 10k ex',
    'live heap growth per 10k ex',
    'records file',
    'failed',
  ],
  [
    [
      formatNumber(stage.examples_per_second),
      `${formatNumber(stage.rss_before_megabytes, 1)} MB`,
      `${formatNumber(stage.peak_rss_megabytes, 1)} MB`,
      ...progressPoints.map((point) => `${formatNumber(stage.rss_at_progress_megabytes[point], 1)} MB`),
      `${formatNumber(stage.rss_growth_megabytes_per_10k_examples, 2)} MB`,
      `${formatNumber(stage.heap_growth_megabytes_per_10k_examples, 2)} MB`,
      liveHeap?.growth_megabytes_per_10k_examples == null ? 'n/a' : `${formatNumber(liveHeap.growth_megabytes_per_10k_examples, 2)} MB`,
      `${formatNumber(stage.output_file_megabytes, 1)} MB`,
      stage.failed,
    ],
  ],
)}`;
}

/** A share's median and range over the rounds, in percent: `85.6% (75.3–118.9%)`. */
function percentSpread(share: { median: number; min: number; max: number }): string {
  return `${formatNumber(share.median * 100, 1)}% (${formatNumber(share.min * 100, 1)}–${formatNumber(share.max * 100, 1)}%)`;
}

/** The engine without its cache beside the engine, against the SDK: how much of the engine's cost is its cache. */
function withoutCacheTable(rows: EngineResults['concurrency']): string {
  const measured = rows.filter((row) => row.engine_without_cache && row.engine_without_cache_share_of_sdk && row.engine_share_of_sdk);
  if (measured.length === 0) return '';
  return `Where the engine's cost lies: the same engine with its accounting on and no cache (\`cache: null\`: no lookup,
no commit; a diagnosis, not a way to run, since then nothing paid for survives the process), interleaved with the
levels above in the same rounds; shares of the SDK's requests/s per round, median (min–max); CPU per request, medians:

${markdownTable(
  ['concurrency', 'engine / SDK', 'engine without cache / SDK', 'CPU ms/req SDK / engine / without cache'],
  measured.map((row) => [
    row.concurrency,
    percentSpread(row.engine_share_of_sdk!),
    percentSpread(row.engine_without_cache_share_of_sdk!),
    `${formatNumber(row.sdk_teacher.cpu_ms_per_request, 3)} / ${formatNumber(row.engine.cpu_ms_per_request, 3)} / ${formatNumber(row.engine_without_cache!.cpu_ms_per_request, 3)}`,
  ]),
)}

`;
}

/** The engine's steps before and after issue 18's changes, as the engine bench timed them in one run (nothing before it did). */
function stepsTable(steps: EngineResults['steps']): string {
  if (!steps) return '';
  return `The engine's own steps changed by issue 18, before and after in this run (each variant in turn, rotated each
round; microseconds per operation, median (min–max) over the rounds; a commit stores one answer into a file already
holding answers):

${markdownTable(
  ['step', 'before', 'after', 'operations per round', 'before µs', 'after µs', 'after ÷ before'],
  steps.map((step) => [
    step.step,
    step.before,
    step.after,
    formatNumber(step.operations),
    withSpread(step.before_microseconds, 2),
    withSpread(step.after_microseconds, 2),
    `${formatNumber(step.after_microseconds.median / step.before_microseconds.median, 2)}×`,
  ]),
)}

`;
}

/** `median (min–max)`, or `n/a` where nothing was measured. */
function spreadOrNone(value: RepeatSpread | null | undefined, decimals: number, scale = 1, unit = ''): string {
  return value ? `${withSpread(value, decimals, scale)}${unit}` : 'n/a';
}

/** The matmul peaks against the hardware ceiling: one row per thread count and precision. */
function matmulPeakRows(results: FairTrainerResults): string[][] {
  return Object.entries(results.matmul_peak).flatMap(([threads, peaks]) =>
    (['fp32', 'bf16'] as const).map((precision) => {
      const peak = peaks[precision];
      return [
        threads,
        precision,
        `\`torch.mm\` ${peak.size}², ${peak.kernel}`,
        withSpread(peak.gflops, 1),
        formatNumber(peak.ceiling_gflops, 1),
        peak.share_of_ceiling === null ? 'n/a' : `${formatNumber(peak.share_of_ceiling * 100, 0)}%`,
        withSpread(peak.cpu_seconds_per_wall_second, 2),
        [
          peak.refused ? '**refused: above the ceiling**' : 'below the ceiling',
          ...(peak.starved ? ['**starved: other work held the cores**'] : []),
        ].join('; '),
      ];
    }),
  );
}

/** The trainer bench: worker against the fair Hugging Face reference (bf16, length grouping) and the paper's fp32 loop. */
function trainerSection(): string {
  const heading = '## Trainer throughput: worker against the Seq2SeqTrainer reference (issues 7 and 18)';
  const anyResult = readResult<FairTrainerResults | TrainerResults>('trainer-throughput');
  if (!anyResult) return `${heading}\n\nNot run yet: \`npm run bench -- --only trainer-throughput\`.`;
  if (!('hardware_ceiling' in anyResult.results))
    return `${heading}\n\nThe result file predates the fair reference (issue 18): \`npm run bench -- --only trainer-throughput\`.`;
  const result = anyResult as BenchResult<Record<string, unknown>, FairTrainerResults>;
  const { results } = result;
  const settings = result.settings as {
    data_description: string;
    warmup_steps: number;
    measured_steps: number;
    max_input_length: number;
    max_target_length: number;
    learning_rate: number;
  };
  const rows = results.points.flatMap((point) => {
    const describe = `d${point.config.d_model}/ff${point.config.d_ff}/h${point.config.num_heads}/${point.config.num_layers}+${point.config.num_decoder_layers}`;
    const paper = point.references.find((run) => !run.headline)?.variant;
    const line = (who: string, run: FairTrainerRun, headline: RepeatSpread | null | undefined, second: RepeatSpread | null | undefined) => [
      `${point.name} (${describe})`,
      point.batch_size,
      point.threads,
      who,
      withSpread(run.steps_per_second, 2),
      spreadOrNone(headline, 2, 1, '×'),
      spreadOrNone(second, 2, 1, '×'),
      formatNumber(run.executed_over_real_flops, 2),
      withSpread(run.tokens_per_second, 0),
      withSpread(run.gflops, 1),
      spreadOrNone(run.share_of_bf16_matmul_peak, 1, 100, '%'),
      `${formatNumber(run.peak_rss_megabytes, 0)} MB`,
    ];
    return [
      ...point.workers.map((run) =>
        line(
          `worker (${run.variant}${run.options && Object.keys(run.options).length === 0 ? ', as shipped' : ''})`,
          run,
          point.speedup_over_reference[run.variant],
          paper === undefined ? null : point.speedup_over_each_reference[paper]?.[run.variant],
        ),
      ),
      ...point.references.map((run) =>
        line(
          `${run.variant}${run.headline ? ' (**headline**)' : ''}${run.autocast?.enabled ? ', autocast on' : ''}`,
          run,
          point.speedup_over_each_reference[point.headline_reference]?.[run.variant] ?? null,
          paper === undefined ? null : point.speedup_over_each_reference[paper]?.[run.variant],
        ),
      ),
    ];
  });
  const targetRows = results.points.flatMap((point) =>
    Object.entries(point.targets).map(([name, target]) => [
      `${point.name}, batch ${point.batch_size}, ${point.threads} thread(s)`,
      name === 'speedup_over_headline_reference' ? 'worker ≥ 1.5× the headline reference' : 'worker ≥ 60% of the measured bf16 peak',
      target.variant,
      name === 'speedup_over_headline_reference' ? `${formatNumber(target.required, 2)}×` : `${formatNumber(target.required * 100, 0)}%`,
      target.measured === null
        ? `not measured (${target.why_not_measured ?? 'n/a'})`
        : name === 'speedup_over_headline_reference'
          ? `${formatNumber(target.measured, 2)}×`
          : `${formatNumber(target.measured * 100, 1)}%`,
      target.met ? 'met' : '**missed**',
    ]),
  );
  const ceiling = results.hardware_ceiling;
  const clock = ceiling.clock_source;
  const data = results.points[0]?.data;
  return `${heading}

${provenance(result)}

Data: ${settings.data_description}; inputs ≤ ${settings.max_input_length} tokens, targets ≤ ${settings.max_target_length}, a unigram
tokenizer trained by the worker (${data ? `${formatNumber(data.vocabulary)} pieces` : ''}) shared by all; ${data ? `${formatNumber(data.mean_tokens_per_example, 1)} real tokens per example over both tasks` : ''}.
All loops train from scratch with AdamW at ${settings.learning_rate}, linear schedule, no warm-up, clipping 1.0, α = 0.5, the same T5
configuration, batch and threads, each run in its own process; ${settings.warmup_steps} warm-up steps, then ${settings.measured_steps} timed steps.
**${results.repeats} interleaved repeat${results.repeats === 1 ? '' : 's'}**: each round runs every loop once (and the matmul peaks), the next round starting one place further;
every figure is the median over the rounds, (min–max) beside it; a speedup is the median of the per-round ratios.
*Headline reference*: \`bench/trainer/reference_loop.py\`, Hugging Face \`Seq2SeqTrainer\` with the paper's two-forward-pass task-prefix
loss, run as its user runs it for speed: \`bf16=True\` (the trainer's autocast; *autocast on* is checked inside the model's forward) and
length grouping (\`train_sampling_strategy="group_by_length"\`, transformers 4's \`group_by_length=True\`, over the \`predict:\` input lengths
the trainer computes itself), fused AdamW. The second reference is the paper's loop with the trainer's defaults (fp32, random order).
*worker*: \`plugins/trainers/torch/worker/main.py --request\` (plain Python, as on a GPU machine), timed from its progress events, its
length-bucketed batches; a row names its options (defaults in this run: \`task_passes: ${results.worker_defaults.task_passes}\`, \`bf16: ${String(results.worker_defaults.bf16)}\`,
\`spinning: ${String(results.worker_defaults.spinning ?? false)}\`; native bf16 on this CPU: ${results.cpu_bf16_supported ? 'yes' : 'no'}); *as shipped* is the row the targets judge.
*executed/real FLOPs*: matmul FLOPs at the padded shapes over those at the real lengths, over the timed steps (the reference's collated
batches; the worker's batches from its own batching code): the padding share. Tokens/s and GFLOP/s count real (unpadded) tokens
(\`bench/trainer/model_flops.py\`: matrix products, 3× forward), so padding counts as waste. Peak memory: each process's peak resident set.

${markdownTable(
  [
    'configuration',
    'batch',
    'threads',
    'loop',
    'steps/s',
    'vs headline reference',
    'vs fp32 random-order reference',
    'executed/real FLOPs',
    'tokens/s',
    'GFLOP/s',
    'share of bf16 peak',
    'peak RSS',
  ],
  rows,
)}

Targets (issue 18; benchmarks, never timed tests):

${targetRows.length > 0 ? markdownTable(['point', 'target', 'worker', 'required', 'measured (median)', ''], targetRows) : 'No point of this run is one the targets name (d_model 256, batch 16 or 32, 1 or 2 threads).'}

Matmul peaks, measured in the same rounds (best repetition of each run; median (min–max) over the runs), against the hardware ceiling:
threads × clock × FLOPs per cycle per core. Clock ${formatNumber(ceiling.clock_mhz, 0)} MHz, the highest of lscpu's maximum (${formatNumber(clock.lscpu_max_mhz, 0)}),
cpufreq's (${formatNumber(clock.cpufreq_max_mhz, 0)}) and the clock measured on one busy core (${formatNumber(clock.measured_mhz, 0)}: a chain of dependent adds, one per
cycle; /proc/cpuinfo's nominal ${formatNumber(clock.nominal_mhz, 0)} MHz is below a boosting core's). FLOPs per cycle per core from the flags:
${ceiling.flops_per_cycle_per_core.float32} fp32 (vector datapath \`${ceiling.vector_datapath}\`: two FMA pipes), ${ceiling.flops_per_cycle_per_core.bfloat16} bf16
(${ceiling.bf16_instruction}). A peak above its ceiling is refused and no share is taken of it; *CPU s per wall s* above the thread
count would mean threads the measurement did not ask for; under 80% of it (*starved*), other work held the cores and the peak is understated.

${markdownTable(['threads', 'precision', 'kernel', 'GFLOP/s', 'ceiling GFLOP/s', 'of ceiling', 'CPU s per wall s', 'check'], matmulPeakRows(results))}`;
}

interface InferenceResults {
  export: { megabytes: number };
  runtimes: {
    runtime: string;
    batch_one: { p50_ms: number; p95_ms: number; mean_ms: number; examples: number };
    batched: { batch_size: number; examples: number; examples_per_second: number };
    agreement_with_pytorch: number | null;
    mean_generated_tokens: number;
  }[];
  onnxruntime_fp32_speedup_batch_one: { over_pytorch: number; over_transformers_js: number };
  onnxruntime_int8_speedup_batch_one: { over_pytorch: number; over_transformers_js: number };
  /** Absent from results written before \`loadStudent\` had the \`spinning\` option. */
  onnxruntime_fp32_spinning_speedup_batch_one?: { over_pytorch: number; over_transformers_js: number };
  onnxruntime_int8_spinning_speedup_batch_one?: { over_pytorch: number; over_transformers_js: number };
}

interface SpreadValue {
  median: number;
  min: number;
  max: number;
}

interface FloorValue {
  compute_ms: number;
  memory_ms: number;
}

interface InferenceCeilings {
  threads: number;
  matmul_fp32_gflops: number;
  matmul_kernel: string;
  memory_gigabytes_per_second: number;
  bandwidth_kernel: string;
}

/** The student-inference results of issue 18: per label call and per rationale token, batch 1 and 8. */
interface PerTokenInferenceResults {
  export: { megabytes: number };
  model: { parameters: number; mean_label_input_tokens: number; mean_rationale_input_tokens: number };
  ceilings: InferenceCeilings;
  floors: {
    what: string;
    label_decoder_steps: number;
    batches: { batch_size: number; label_call: FloorValue; rationale_step: FloorValue }[];
  };
  rows: {
    runtime: string;
    batches: { batch_size: number; label_call_ms: SpreadValue; rationale_step_ms: SpreadValue; rationale_first_ms: SpreadValue }[];
    load_ms: SpreadValue | null;
    same_as_pytorch: { labels: number; rationales: number } | null;
    mean_label_tokens: number;
  }[];
  targets: {
    runtime: string;
    per_token_over_transformers_js: { batch_size: number; speedup_over_transformers_js: number }[];
    per_token_target_met: boolean;
    label_batch_one_over_compute_floor: number;
    label_floor_target_met: boolean;
  }[];
  int8_accuracy: { split: string; examples: number; fp32: number; int8: number; int8_minus_fp32_points: number; same_labels: number };
}

/** The ceilings line of an inference section: what the floors are divided by, and how each was measured. */
function ceilingsLine(ceilings: InferenceCeilings): string {
  return (
    `Floors: matmul FLOPs ÷ the fp32 matmul peak, ${formatNumber(ceilings.matmul_fp32_gflops, 1)} GFLOP/s (${ceilings.matmul_kernel}); ` +
    `bytes of weights read ÷ the memory bandwidth, ${formatNumber(ceilings.memory_gigabytes_per_second, 1)} GB/s (${ceilings.bandwidth_kernel}); ` +
    `both on ${ceilings.threads} threads, in this run.`
  );
}

/** `compute / memory` floors of one cell, in ms. */
function floorCell(value: FloorValue, decimals: number, divisor = 1): string {
  return `${formatNumber(value.compute_ms / divisor, decimals)} / ${formatNumber(value.memory_ms / divisor, decimals)}`;
}

function perTokenInferenceSection(result: BenchResult<Record<string, unknown>, PerTokenInferenceResults>, heading: string): string {
  const settings = result.settings as {
    student: string;
    training_steps: number;
    thread_policy: string;
    max_new_tokens: number;
    rationale_tokens: string;
    batch_sizes: number[];
    label_texts: number;
    rationale_texts: number;
    warmup_calls: number;
    repeats: number;
    /** How the runtimes were ordered within a repeat; absent from results written in one fixed order. */
    runtime_order?: string;
    inputs: string;
    statistics: string;
  };
  const { rows, floors, ceilings, targets, int8_accuracy: accuracy } = result.results;
  const sizes = settings.batch_sizes;
  const atSize = <Entry extends { batch_size: number }>(entries: readonly Entry[], size: number) =>
    entries.find((entry) => entry.batch_size === size);
  const tableRows = rows.map((row) => [
    row.runtime,
    ...sizes.map((size) => withSpread(atSize(row.batches, size)!.label_call_ms, 2)),
    ...sizes.map((size) => {
      const step = atSize(row.batches, size)!.rationale_step_ms;
      return size === 1 ? withSpread(step, 3) : `${withSpread(step, 3)}; ${formatNumber(step.median / size, 3)}/token`;
    }),
    row.load_ms === null ? 'n/a' : withSpread(row.load_ms, 0),
    row.same_as_pytorch === null
      ? 'reference'
      : `${formatNumber(row.same_as_pytorch.labels * 100, 0)}% / ${formatNumber(row.same_as_pytorch.rationales * 100, 0)}%`,
  ]);
  tableRows.push([
    '*floor: compute / memory*',
    ...sizes.map((size) => floorCell(atSize(floors.batches, size)!.label_call, 3)),
    ...sizes.map((size) => floorCell(atSize(floors.batches, size)!.rationale_step, 3)),
    '',
    '',
  ]);
  const metOrMissed = (met: boolean) => (met ? '**met**' : '**missed**');
  const targetRows = targets.map((target) => [
    target.runtime,
    target.per_token_over_transformers_js
      .map((entry) => `${formatNumber(entry.speedup_over_transformers_js, 2)}× (batch ${entry.batch_size})`)
      .join(', '),
    metOrMissed(target.per_token_target_met),
    `${formatNumber(target.label_batch_one_over_compute_floor, 2)}×`,
    metOrMissed(target.label_floor_target_met),
  ]);
  // Each speed option against loadStudent's defaults, measured in the same interleaved run.
  const defaults = rows.find((row) => row.runtime.includes('defaults'));
  const beforeAfter = rows
    .filter((row) => defaults && row !== defaults && row.runtime.startsWith('onnxruntime-node'))
    .map((row) => {
      const ratio = (size: number, pick: (batch: PerTokenInferenceResults['rows'][number]['batches'][number]) => SpreadValue) =>
        formatNumber(pick(atSize(row.batches, size)!).median / pick(atSize(defaults!.batches, size)!).median, 2);
      return `${row.runtime}: ${sizes.map((size) => `batch ${size} label ${ratio(size, (batch) => batch.label_call_ms)}×, rationale step ${ratio(size, (batch) => batch.rationale_step_ms)}×`).join('; ')} the time of the defaults`;
    });
  return `${heading}

${provenance(result)}

Student: ${settings.student}, ${formatNumber(result.results.model.parameters, 0)} parameters, trained ${settings.training_steps} steps on e-SNLI valid with PaLM rationales by the worker,
exported by the \`onnx\` exporter (fp32 and int8 graphs, ${formatNumber(result.results.export.megabytes, 1)} MB in all). Inputs: ${settings.inputs}
(about ${formatNumber(result.results.model.mean_label_input_tokens, 0)} input tokens). *Label call*: one \`predict: \` call per batch (${settings.label_texts} texts), greedy, stopping at \`</s>\`
(${formatNumber(floors.label_decoder_steps, 1)} decoder steps on average). *Rationale step*: \`explain: \` texts (${settings.rationale_texts}), ${settings.max_new_tokens} new tokens in every runtime
(${settings.rationale_tokens}); each batch timed generating one token and all ${settings.max_new_tokens}, step = (all − one) ÷ ${settings.max_new_tokens - 1}; at batch 8 a step generates 8 tokens.
The first ${settings.warmup_calls} call of each kind is warm-up. Thread and spin policy, the same everywhere: ${settings.thread_policy}.
${settings.repeats} repeats, interleaved (each repeat loads, times and closes every runtime in turn; ${settings.runtime_order ?? 'one fixed order, the rows’ order'}); ${settings.statistics}: median (min–max).
PyTorch runs in its own process (\`bench/inference/pytorch_generate.py\`), \`generate\` and the hand-written loop alternating call by call.
*Same as PyTorch*: share of batch-1 outputs whose ids equal PyTorch \`generate\`'s (labels / rationales). *Load*: creating the runtime's sessions of both folders.
${ceilingsLine(ceilings)} ${floors.what}.

${markdownTable(
  [
    'runtime',
    ...sizes.map((size) => `label call ms, batch ${size}`),
    ...sizes.map((size) => `rationale step ms, batch ${size}`),
    'load ms',
    'same as PyTorch',
  ],
  tableRows,
)}

Speed options, each against \`loadStudent\`'s defaults in the same run (ratio of medians; below 1 is faster):
${beforeAfter.map((line) => `- ${line}.`).join('\n')}

Targets (issue 18): Node ≥ 1.5× transformers.js per generated token; a batch-1 label call within 1.5× of the compute floor.

${markdownTable(['runtime', 'per-token speed-up over transformers.js', 'target', 'batch-1 label call ÷ compute floor', 'target'], targetRows)}

int8 against fp32 (${accuracy.split}, ${accuracy.examples} examples, \`predict\` labels with \`loadStudent\`'s defaults): fp32 ${formatNumber(accuracy.fp32, 3)},
int8 ${formatNumber(accuracy.int8, 3)} (${formatNumber(accuracy.int8_minus_fp32_points, 1)} points), ${formatNumber(accuracy.same_labels * 100, 1)}% identical labels: for this student int8
${accuracy.int8_minus_fp32_points > -0.5 ? 'costs under' : 'costs more than'} half a point, the bar for making it a default. That says little: a 200-step student
scoring ${formatNumber(accuracy.fp32, 3)} on three labels is near chance, where rounding moves few answers that matter. The quickstart's trained
student loses far more in int8 (its row with \`quantize\` in the offline recipes' section), so \`loadStudent\` keeps fp32 by default: the exporter writes int8 graphs only
with \`quantize: true\`.`;
}

function inferenceSection(): string {
  const result = readResult<InferenceResults | PerTokenInferenceResults>('student-inference');
  const heading = '## Student inference (issue 7, item 3; per token: issue 18)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only student-inference\`.`;
  // Results written before issue 18 timed one label per call and hold no rows.
  if ('rows' in result.results)
    return perTokenInferenceSection(result as BenchResult<Record<string, unknown>, PerTokenInferenceResults>, heading);
  return `${heading}\n\nThe result file predates per-token timing (issue 18): \`npm run bench -- --only student-inference\`.`;
}

interface QualityResults {
  majority_class_test_accuracy: Record<string, number>;
  grid_started_at?: string;
  /** Absent from results written before the size was chosen on validation (issue 18). */
  student_selection?: Record<
    string,
    {
      runs: { student: string; method: string; validation_accuracy: number | null; best_step: number | null }[];
      mean_validation_accuracy: Record<string, number>;
      chosen: string;
    }
  >;
  runs: {
    dataset: string;
    student?: string;
    fraction: number;
    method: string;
    rationale_rate: number | null;
    seed: number;
    test_accuracy: number | null;
    validation_accuracy: number | null;
    train_examples: number;
    with_rationale: number;
    test_examples: number;
  }[];
}

function meanAndSpread(values: readonly number[]): string {
  if (values.length === 0) return 'n/a';
  const mean = values.reduce((total, value) => total + value, 0) / values.length;
  if (values.length === 1) return `${formatNumber(mean, 3)} (1 seed)`;
  const spread = Math.sqrt(values.reduce((total, value) => total + (value - mean) ** 2, 0) / (values.length - 1));
  return `${formatNumber(mean, 3)} ± ${formatNumber(spread, 3)} (${values.length} seeds)`;
}

function qualitySection(): string {
  const result = readResult<QualityResults>('student-quality');
  const heading = '## Quality: standard finetuning against step-by-step (issue 7, item 5)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only student-quality\`.`;
  const settings = result.settings as {
    /** Before issue 18: the one size the bench trained. */
    student?: Record<string, number>;
    /** Since issue 18: the sizes chosen from on validation, and how. */
    student_candidates?: Record<string, Record<string, number>>;
    student_selection?: string;
    tokenizer_corpus?: string;
    tokenizer_pieces?: number;
    max_input_length?: number | Record<string, number>;
    max_target_length?: number;
    precision?: string;
    steps: number;
    batch_size: number;
    learning_rate: number;
    validation: string;
    test_examples: number | string;
    labels: string;
    fractions: number[];
    threads_per_training?: number;
    concurrent_trainings?: number;
  };
  const { runs, majority_class_test_accuracy: majority, grid_started_at: gridStartedAt } = result.results;
  const fractions = [...new Set(runs.map((run) => run.fraction))].sort((left, right) => left - right);
  // Datasets in the order of the issue, then standard finetuning and step-by-step by rationale rate.
  const datasetOrder = (name: string) => (name === 'esnli' ? 0 : name === 'cqa' ? 1 : 2);
  const ordered = [...runs].sort(
    (left, right) =>
      datasetOrder(left.dataset) - datasetOrder(right.dataset) ||
      left.dataset.localeCompare(right.dataset) ||
      (left.rationale_rate ?? -1) - (right.rationale_rate ?? -1),
  );
  const keys = [
    ...new Set(
      ordered.map(
        (run) =>
          `${run.dataset}\u0000${run.method === 'standard' ? 'standard finetuning' : `step-by-step, rationale rate ${run.rationale_rate}`}`,
      ),
    ),
  ];
  const rows = keys.map((key) => {
    const [dataset, method] = key.split('\u0000') as [string, string];
    const cells = fractions.map((fraction) => {
      const matching = runs.filter(
        (run) =>
          run.dataset === dataset &&
          run.fraction === fraction &&
          (run.method === 'standard' ? 'standard finetuning' : `step-by-step, rationale rate ${run.rationale_rate}`) === method,
      );
      return meanAndSpread(matching.map((run) => run.test_accuracy).filter((value): value is number => value !== null));
    });
    return [dataset, method, ...cells, formatNumber(majority[dataset], 3)];
  });
  const describeStudent = (student: Record<string, number>) =>
    `d_model ${student.d_model}, d_ff ${student.d_ff}, ${student.num_heads} heads, ${student.num_layers}+${student.num_decoder_layers} layers, dropout ${student.dropout_rate ?? 0.1}`;
  const selection = result.results.student_selection;
  const candidates = settings.student_candidates;
  const selectionText =
    selection && candidates
      ? `Every choice is made on the validation set, never on test. The student size: ${settings.student_selection ?? 'chosen on validation'}. The candidates
were ${Object.entries(candidates)
          .map(([name, config]) => `*${name}* (${describeStudent(config)})`)
          .join(', ')}. Then each training of the grid keeps the checkpoint (and so the number of steps) with the best validation accuracy,
and only that checkpoint of the chosen size is scored on test. The tokenizer: ${settings.tokenizer_corpus ?? ''}, so that standard
finetuning and step-by-step differ in their loss only.

${markdownTable(
  [
    'dataset',
    'student',
    ...[...new Set(Object.values(selection).flatMap((each) => each.runs.map((run) => run.method)))].map(
      (method) => `validation, ${method}`,
    ),
    'mean validation',
    'chosen',
  ],
  Object.entries(selection).flatMap(([dataset, each]) =>
    Object.keys(each.mean_validation_accuracy).map((student) => [
      dataset,
      student,
      ...[...new Set(each.runs.map((run) => run.method))].map((method) =>
        formatNumber(each.runs.find((run) => run.student === student && run.method === method)?.validation_accuracy, 3),
      ),
      formatNumber(each.mean_validation_accuracy[student], 3),
      student === each.chosen ? '**chosen**' : '',
    ]),
  ),
)}
`
      : `The student size of these rows was chosen before issue 18, while looking at test accuracy, and standard finetuning trained its
tokenizer without the rationales; \`npm run bench -- --only student-quality\` runs the grid again with both choices made on validation.
`;
  const student = settings.student ?? (candidates && selection ? candidates[Object.values(selection)[0]!.chosen] : undefined);
  return `${heading}

${provenance(result)}${
    gridStartedAt && gridStartedAt !== result.started_at
      ? `
- The grid is resumable: this run kept the trainings of earlier runs with the same settings and worker code; its first run started ${gridStartedAt}.`
      : ''
  }

Students trained from scratch by the worker: ${
    selection
      ? `the size chosen on validation (${Object.entries(selection)
          .map(([dataset, each]) => `${dataset}: ${each.chosen}`)
          .join(', ')})`
      : student
        ? describeStudent(student)
        : 'n/a'
  }, a ${settings.tokenizer_pieces ?? 8000}-piece unigram tokenizer, inputs ≤ ${
    typeof settings.max_input_length === 'object'
      ? Object.entries(settings.max_input_length)
          .map(([name, length]) => `${length} (${name})`)
          .join(', ')
      : (settings.max_input_length ?? 128)
  } and targets ≤ ${settings.max_target_length ?? 64} tokens,
${settings.steps} steps of batch ${settings.batch_size}, learning rate ${settings.learning_rate}, precision ${settings.precision ?? 'fp32'}; labels ${settings.labels}; training data through the real sampler plugins
(label source, data fraction, rationale rate); step-by-step uses α = 0.5 and the PaLM rationales of the dsbs data; standard finetuning uses
α = 1 and no rationale in its loss. Model selection on the validation set (${settings.validation}); test accuracy of the chosen checkpoint on
${settings.test_examples === 'all' ? 'the whole test split' : `the first ${settings.test_examples} test examples`} (exact match), test never used for selection.${settings.threads_per_training ? ` Each training on ${settings.threads_per_training} thread, ${settings.concurrent_trainings} at once; a seed gives the same accuracy in any process.` : ''}

${selectionText}
These students start from random weights and train for minutes on two CPU cores; the paper fine-tunes pretrained T5 v1.1 (77M–3B
parameters) for 10,000 steps. The absolute accuracies are therefore far below the paper's (e-SNLI is not in its tables; ANLI1 0.378–0.486,
CQA 0.621–0.632 at T5-base, as quoted in \`docs/method.md\`): read the comparison between rows, not the level${runs.every((run) => run.seed === runs[0]?.seed) ? ', and with one seed a difference of a few points is within noise' : ''}.

${markdownTable(['dataset', 'method', ...fractions.map((fraction) => `${formatNumber(fraction * 100, fraction < 0.25 ? 1 : 0)}% of the data`), 'majority class'], rows)}${
    runs.some((run) => run.dataset === 'cqa')
      ? `

CQA's majority class is the most frequent answer text of its test split; picking one of the five answer choices at random would score 0.2.`
      : ''
  }`;
}

interface PretrainedQualityResults {
  baselines: Record<
    string,
    {
      test_examples: number;
      teacher_label_accuracy: number;
      teacher_unlabelled: number;
      majority_class: { label: string; share: number };
      random_choice: number | null;
    }
  >;
  runs: {
    dataset: string;
    method: string;
    alpha: number;
    node_test_accuracy: number;
    trainer_test_accuracy: number;
    validation_accuracy: number;
    best_step: number | null;
    steps: number;
    train_examples: number;
    with_rationale: number;
    test_examples: number;
    stage_seconds: Record<string, number>;
  }[];
  skipped: Record<string, string>;
}

function pretrainedQualitySection(): string {
  const result = readResult<PretrainedQualityResults>('pretrained-quality');
  const heading = '## Pretrained causal-LM student: quality (issue 14, item 7)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only pretrained-quality\`.`;
  const settings = result.settings as {
    student: string;
    seed: number;
    labels: string;
    datasets: Record<
      string,
      {
        test_limit: number | null;
        data_fraction: number;
        student: Record<string, string | number | undefined>;
        trainer: Record<string, string | number | undefined>;
      }
    >;
  };
  const { baselines, runs, skipped } = result.results;
  const datasetOrder = (name: string) => (name === 'esnli' ? 0 : name === 'cqa' ? 1 : 2);
  const ordered = [...runs].sort((left, right) => datasetOrder(left.dataset) - datasetOrder(right.dataset));
  const rows = ordered.map((run) => {
    const baseline = baselines[run.dataset];
    const stages = ['trainer', 'export', 'evaluate'].map((stage) => formatNumber(run.stage_seconds[stage], 0)).join(' / ');
    return [
      run.dataset,
      run.method,
      formatNumber(run.node_test_accuracy, 3),
      formatNumber(run.trainer_test_accuracy, 3),
      formatNumber(run.validation_accuracy, 3),
      run.best_step === null ? 'n/a' : `${run.best_step} of ${run.steps}`,
      `${formatNumber(run.train_examples)} (${formatNumber(run.with_rationale)} with rationale)`,
      formatNumber(run.test_examples),
      stages,
      formatNumber(baseline?.teacher_label_accuracy, 3),
      baseline
        ? `${formatNumber(baseline.majority_class.share, 3)}${baseline.random_choice === null ? '' : ` / ${formatNumber(baseline.random_choice, 1)}`}`
        : 'n/a',
    ];
  });
  const table = Object.entries(settings.datasets)
    .map(([name, dataset]) => {
      const trainer = dataset.trainer;
      return `${name}: ${String(trainer.max_steps)} steps of batch ${String(trainer.batch_size)}, learning rate ${String(trainer.learning_rate)}, prompts ≤ ${String(dataset.student.max_input_length ?? 'the recipe’s')} tokens, validation every ${String(trainer.eval_every)} steps on ${String(trainer.eval_limit)} examples, ${dataset.test_limit === null ? 'the whole test split' : `the first ${dataset.test_limit} test examples`}, ${formatNumber(dataset.data_fraction * 100, 0)}% of the training split`;
    })
    .join('; ');
  const skippedText = Object.entries(skipped)
    .map(([name, reason]) => `- Not run: ${name} (${reason}).`)
    .join('\n');
  return `${heading}

${provenance(result)}
${skippedText ? `${skippedText}\n` : ''}
Student: ${settings.student} (\`pipelines/shared/smollm2-student.yaml\`), each row a real pipeline run (\`runPipeline\`: dsbs dataset,
recorded PaLM teacher, samplers, torch trainer, onnx export, Node evaluate) on the same examples with seed ${settings.seed}; labels ${settings.labels}.
Settings: ${table}. *standard finetuning*: α = 1, no rationale (label task only); *step-by-step*: α = 0.5 with the PaLM rationales,
\`two-tasks\` (a label row and a rationale row per example) or \`label-then-rationale\` (one row: label, separator, rationale).
*Node test*: the evaluate stage (the exported ONNX student in onnxruntime-node, greedy labels); *trainer test*: PyTorch's score of the same
checkpoint; the checkpoint is chosen on validation. *Teacher*: the recorded PaLM answers of the same test examples parsed by the \`palm\`
parser, against gold; *majority / chance*: the most frequent gold label of the test examples (and, for CQA, 0.2 for picking one of five choices).

${markdownTable(
  [
    'dataset',
    'method',
    'Node test',
    'trainer test',
    'validation',
    'best step',
    'train examples',
    'test examples',
    's trainer / export / evaluate',
    'teacher',
    'majority / chance',
  ],
  rows,
)}`;
}

interface ThroughputSpread {
  median: number;
  min: number;
  max: number;
}
interface PretrainedThroughputResults {
  cpu_bf16_supported: boolean;
  /** Results written before issue 18: the peaks before and after the runs. */
  matmul_peak_gflops?: Record<'fp32' | 'bf16', { before: number; after: number }>;
  /** From issue 18: the peaks of every repeat, checked against the hardware ceiling. */
  matmul_peak?: Record<'fp32' | 'bf16', MatmulPeak>;
  layouts: {
    layout: string;
    precision: string;
    data: { mean_tokens_per_example: number; mean_target_tokens_per_example: number; non_embedding_parameters: number };
    steps_per_second: ThroughputSpread;
    tokens_per_second: ThroughputSpread;
    self_reported_tokens_per_second: ThroughputSpread;
    gflops: ThroughputSpread;
    share_of_bf16_matmul_peak: ThroughputSpread | null;
    peak_rss_megabytes: number;
  }[];
}

/** The pretrained bench's matmul-peak sentence, for results from before issue 18 and after. */
function pretrainedPeaks(results: PretrainedThroughputResults, size: number): string {
  const native = `native bf16 on this CPU: ${results.cpu_bf16_supported ? 'yes' : 'no'}`;
  if (results.matmul_peak) {
    const describe = (peak: MatmulPeak) =>
      `${withSpread(peak.gflops, 1)} GFLOP/s (${peak.kernel}; ceiling ${formatNumber(peak.ceiling_gflops, 1)}${peak.refused ? ', **refused: above the ceiling**' : ''})`;
    return `Matmul peak (\`torch.mm\`, ${size}², same threads, in every repeat; median (min–max)): bf16 ${describe(results.matmul_peak.bf16)};
fp32 ${describe(results.matmul_peak.fp32)} (${native}; the ceiling is threads × clock × FLOPs per cycle, as in the trainer section); shares are of the median bf16 peak.`;
  }
  const peaks = results.matmul_peak_gflops!;
  return `Matmul peak (\`torch.mm\`, ${size}², same threads): bf16 ${formatNumber(peaks.bf16.before, 1)} GFLOP/s before the runs, ${formatNumber(peaks.bf16.after, 1)} after;
fp32 ${formatNumber(peaks.fp32.before, 1)} and ${formatNumber(peaks.fp32.after, 1)} (${native}); shares are of the bf16 peak before the runs.`;
}

/** `median (min–max)` of repeated measurements. */
function withSpread(value: ThroughputSpread, decimals: number, scale = 1): string {
  return `${formatNumber(value.median * scale, decimals)} (${formatNumber(value.min * scale, decimals)}–${formatNumber(value.max * scale, decimals)})`;
}

function pretrainedThroughputSection(): string {
  const result = readResult<PretrainedThroughputResults>('pretrained-throughput');
  const heading = '## Pretrained causal-LM student: trainer throughput (issue 14, item 7)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only pretrained-throughput\`.`;
  const settings = result.settings as {
    data_description: string;
    warmup_steps: number;
    measured_steps: number;
    repeats: number;
    threads: number;
    batch_size: number;
    matmul_size: number;
    flops: string;
    student: Record<string, string | number | undefined>;
  };
  const { layouts } = result.results;
  const rows = layouts.map((layout) => [
    layout.layout,
    layout.precision,
    withSpread(layout.steps_per_second, 3),
    withSpread(layout.tokens_per_second, 0),
    formatNumber(layout.self_reported_tokens_per_second.median, 0),
    withSpread(layout.gflops, 1),
    layout.share_of_bf16_matmul_peak ? `${withSpread(layout.share_of_bf16_matmul_peak, 1, 100)}%` : 'n/a (peak refused)',
    formatNumber(layout.data.mean_tokens_per_example, 1),
    formatNumber(layout.data.mean_target_tokens_per_example, 1),
    `${formatNumber(layout.peak_rss_megabytes, 0)} MB`,
  ]);
  return `${heading}

${provenance(result)}

The worker (\`main.py --request\`, its defaults) training the student of the quickstart (${String(settings.student.pretrained ?? 'a tiny Llama (smoke)')},
prompts ≤ ${String(settings.student.max_input_length)} tokens, targets ≤ ${String(settings.student.max_target_length)}), batch ${settings.batch_size}, ${settings.threads} threads, α = 0.5, on ${settings.data_description}.
${settings.warmup_steps} warm-up steps, then ${settings.measured_steps} timed steps, timed from the worker's progress events; ${settings.repeats} repeats,
interleaved (each repeat trains both layouts in turn, every run in a fresh process): median (min–max). Tokens/s: steps/s × batch × the data's
mean real tokens per example as the worker encodes them; *worker tokens/s* is the worker's own count, for comparison. FLOPs: ${settings.flops}.
${pretrainedPeaks(result.results, settings.matmul_size)}

${markdownTable(
  [
    'targets',
    'precision',
    'steps/s',
    'tokens/s',
    'worker tokens/s',
    'GFLOP/s',
    'share of bf16 peak',
    'tokens/example',
    'target tokens/example',
    'peak RSS',
  ],
  rows,
)}`;
}

interface PretrainedInferenceResults {
  export: { megabytes: number };
  /** Absent from results written before issue 18. */
  ceilings?: InferenceCeilings;
  floors?: { what: string; prompt_pass: FloorValue; per_token: FloorValue };
  model?: { parameters: number; mean_prompt_tokens: number };
  per_token_speedup_over_transformers_js?: Record<string, number>;
  batched?: {
    batch_size: number;
    floors: { prompt_pass: FloorValue; step: FloorValue };
    runtimes: PretrainedInferenceResults['runtimes'];
    step_speedup_over_transformers_js: Record<string, number>;
  };
  runtimes: {
    runtime: string;
    prompt_pass_ms: ThroughputSpread;
    per_token_ms: ThroughputSpread;
    generation_ms: ThroughputSpread;
    same_as_pytorch: number | null;
  }[];
  per_token_speedup_over_pytorch: Record<string, number>;
}

function pretrainedInferenceSection(): string {
  const result = readResult<PretrainedInferenceResults>('pretrained-inference');
  const heading = '## Pretrained causal-LM student: inference latency (issue 14, item 7)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only pretrained-inference\`.`;
  const settings = result.settings as {
    student: string;
    source: string;
    threads: number;
    new_tokens: number;
    end_token: string;
    prompts: number;
    warmup_prompts: number;
    repeats: number;
    /** How the runtimes were ordered within a repeat; absent from results written in one fixed order. */
    runtime_order?: string;
    inputs: string;
    thread_policy?: string;
  };
  const { runtimes, per_token_speedup_over_pytorch: speedups, floors, ceilings } = result.results;
  const overTransformersJs = result.results.per_token_speedup_over_transformers_js;
  const rows = runtimes.map((runtime) => [
    runtime.runtime,
    withSpread(runtime.per_token_ms, 2),
    withSpread(runtime.prompt_pass_ms, 2),
    withSpread(runtime.generation_ms, 1),
    `${formatNumber(speedups[runtime.runtime], 2)}×`,
    ...(overTransformersJs ? [`${formatNumber(overTransformersJs[runtime.runtime], 2)}×`] : []),
    runtime.same_as_pytorch === null ? 'n/a' : `${formatNumber(runtime.same_as_pytorch * 100, 0)}%`,
  ]);
  if (floors)
    rows.push([
      '*floor: compute / memory*',
      floorCell(floors.per_token, 3),
      floorCell(floors.prompt_pass, 3),
      '',
      '',
      ...(overTransformersJs ? [''] : []),
      '',
    ]);
  const nodeRows = runtimes.filter((runtime) => runtime.runtime.startsWith('onnxruntime-node'));
  const target = overTransformersJs
    ? `\nTarget (issue 18): Node ≥ 1.5× transformers.js per generated token: ${nodeRows
        .map(
          (runtime) =>
            `${runtime.runtime} ${formatNumber(overTransformersJs[runtime.runtime], 2)}× (**${(overTransformersJs[runtime.runtime] ?? 0) >= 1.5 ? 'met' : 'missed'}**)`,
        )
        .join(', ')}.`
    : '';
  const policy = settings.thread_policy ? ` Thread and spin policy, the same everywhere: ${settings.thread_policy}.` : '';
  const labelFloor = floors
    ? `\nTarget (issue 18), a batch-1 label within 1.5× of the compute floor (the prompt pass, one token, stands for a label call): ${nodeRows
        .map((runtime) => {
          const ratio = runtime.prompt_pass_ms.median / floors.prompt_pass.compute_ms;
          return `${runtime.runtime} ${formatNumber(ratio, 2)}× (**${ratio <= 1.5 ? 'met' : 'missed'}**)`;
        })
        .join(', ')}.`
    : '';
  const floorText = floors && ceilings ? `\n${ceilingsLine(ceilings)} ${floors.what}.` : '';
  return `${heading}

${provenance(result)}

Student: ${settings.student} (${settings.source}), written as a student folder by \`bench/students/smollm2_folder.py\` (the worker's
loader and folder writer) and exported by the \`onnx\` exporter (fp32 and int8, ${formatNumber(result.results.export.megabytes, 1)} MB in all).
Inputs: ${settings.inputs}; ${settings.prompts} prompts after ${settings.warmup_prompts} warm-up ones, batch 1, greedy, exactly ${settings.new_tokens} new tokens
(end token ${settings.end_token}), ${settings.threads} threads everywhere. Each prompt is timed generating one token
(*prompt pass*: the prompt's forward pass and one argmax) and generating all of them; *per token* = (whole − prompt pass) / ${settings.new_tokens - 1}.
Medians over the prompts of a repeat; ${settings.repeats} repeats interleaved (each loads, times and closes every runtime in turn; ${settings.runtime_order ?? 'one fixed order, the rows’ order'}): median (min–max).
PyTorch runs in its own process. *Same as PyTorch*: share of prompts whose generated ids equal PyTorch's (transformers.js: its model's \`generate\`, untimed, after the timed pipeline call).${policy}${floorText}${target}${labelFloor}

${markdownTable(
  [
    'runtime',
    'per token ms',
    'prompt pass ms',
    `${settings.new_tokens} tokens ms`,
    'per-token speed-up over PyTorch',
    ...(overTransformersJs ? ['over transformers.js'] : []),
    'same as PyTorch',
  ],
  rows,
)}${batchedTable(result.results.batched, settings.new_tokens)}`;
}

/** The batch-8 table of the pretrained inference section (results of issue 18 on). */
function batchedTable(batched: PretrainedInferenceResults['batched'], newTokens: number): string {
  if (!batched) return '';
  const size = batched.batch_size;
  const rows = batched.runtimes.map((runtime) => [
    runtime.runtime,
    `${withSpread(runtime.per_token_ms, 2)}; ${formatNumber(runtime.per_token_ms.median / size, 3)}/token`,
    withSpread(runtime.prompt_pass_ms, 2),
    withSpread(runtime.generation_ms, 1),
    `${formatNumber(batched.step_speedup_over_transformers_js[runtime.runtime], 2)}×`,
    runtime.same_as_pytorch === null ? 'n/a' : `${formatNumber(runtime.same_as_pytorch * 100, 0)}%`,
  ]);
  rows.push(['*floor: compute / memory*', floorCell(batched.floors.step, 3), floorCell(batched.floors.prompt_pass, 3), '', '', '']);
  const nodeRows = batched.runtimes.filter((runtime) => runtime.runtime.startsWith('onnxruntime-node'));
  const target = nodeRows
    .map((runtime) => {
      const speedup = batched.step_speedup_over_transformers_js[runtime.runtime] ?? 0;
      return `${runtime.runtime} ${formatNumber(speedup, 2)}× (**${speedup >= 1.5 ? 'met' : 'missed'}**)`;
    })
    .join(', ');
  return `

Batch ${size}: batches of ${size} left-padded prompts of their own (the first batch warm-up), the same measures; a step generates ${size} tokens.
Target (issue 18), per generated token: ${target}.

${markdownTable(['runtime', 'per step ms', 'prompt pass ms', `${newTokens} steps ms`, 'over transformers.js', 'same as PyTorch'], rows)}`;
}

interface OfflineRecipeRun {
  recipe: string;
  /** Absent from results written before rows recorded their own start. */
  started_at?: string;
  load_average_at_start?: readonly number[];
  command: string;
  exit_code: number;
  pipeline_seconds: number;
  stage_seconds: Record<string, number>;
  node_test_accuracy: number | null;
  node_test_examples: number | null;
  trainer_test_accuracy: number | null;
  validation_accuracy: number | null;
  best_step: number | null;
  train_examples: number | null;
  majority_class: { label: string; share: number } | null;
  /** Absent from results written before the bench recorded it; null where the recipe does not calibrate. */
  calibration?: {
    against: string;
    validation_examples: number;
    test: { target: number; threshold: number | null; coverage: number; agreement: number; examples: number }[];
  } | null;
}
interface OfflineStudentsResults {
  teacher_test: { accuracy: number; examples: number };
  runs: OfflineRecipeRun[];
}

const minutes = (value: number | undefined) => (value === undefined ? 'n/a' : `${formatNumber(value / 60, 1)} min`);
const accuracy = (value: number | null) => (value === null ? 'n/a' : formatNumber(value, 3));

/** The README's main command and the from-scratch recipe, run end to end as a new user runs them. */
function offlineStudentsSection(): string {
  const result = readResult<OfflineStudentsResults>('offline-students');
  if (!result) return '## The offline recipes end to end\n\nNot run yet: `npm run bench -- --only offline-students`.';
  const { teacher_test: teacher, runs } = result.results;
  const rows = runs.map((run) => [
    `\`${run.command}\``,
    run.exit_code === 0 ? 'yes' : `no (exit ${run.exit_code})`,
    `${accuracy(run.node_test_accuracy)} (${run.node_test_examples ?? 'n/a'} ex.)`,
    accuracy(run.trainer_test_accuracy),
    accuracy(run.validation_accuracy),
    String(run.train_examples ?? 'n/a'),
    minutes(run.pipeline_seconds),
    run.started_at ? `${run.started_at.slice(0, 16).replace('T', ' ')} (load ${run.load_average_at_start?.[0] ?? 'n/a'})` : 'n/a',
    ['dataset', 'teacher', 'trainer', 'export', 'evaluate'].map((stage) => minutes(run.stage_seconds[stage])).join(' / '),
  ]);
  const majority = runs.find((run) => run.majority_class)?.majority_class;
  const majorityText = majority ? `; the majority class (\`${majority.label}\`) is ${formatNumber(majority.share, 3)}` : '';
  return `## The offline recipes end to end

${provenance(result)}

Each recipe runs as a new user runs it: a fresh run folder and teacher cache, the sample shipped in
\`pipelines/data/esnli-sample\` (4,000 training and 2,000 test examples, gold labels with the PaLM-540B rationales),
everything on this machine's CPU. "Node test accuracy" is the evaluate stage's: the exported ONNX student scored
in Node on the whole test split. The recorded PaLM-540B teacher's label accuracy on the same ${teacher.examples} test
examples is ${formatNumber(teacher.accuracy, 3)}${majorityText}. The row with \`quantize\` and \`int8\` is the
quickstart's student (same seed, so the same trained weights) exported and scored as the int8 graph: its accuracy
beside the quickstart's is what quantisation costs on a trained student.

${markdownTable(
  [
    'command',
    'finished',
    'Node test accuracy',
    'trainer test accuracy',
    'validation accuracy',
    'training examples',
    'pipeline time',
    'run started (1-min load)',
    'dataset / teacher / trainer / export / evaluate',
  ],
  rows,
)}${calibrationText(runs)}`;
}

/** What each calibrating recipe's thresholds achieved on the test split, for student-first serving. */
function calibrationText(runs: readonly OfflineRecipeRun[]): string {
  const calibrated = runs.filter((run) => run.calibration && run.calibration.test.length > 0);
  if (calibrated.length === 0) return '';
  const percent = (share: number) => `${formatNumber(share * 100, 1)}%`;
  const lines = calibrated.map((run) => {
    const { against, validation_examples: examples, test } = run.calibration!;
    const points = test
      .map(
        (point) => `at ${percent(point.target)} the student answers ${percent(point.coverage)} alone, ${percent(point.agreement)} achieved`,
      )
      .join('; ');
    return `- \`${run.command}\`: thresholds chosen on ${formatNumber(examples)} validation examples for agreement with the ${against}; on the ${formatNumber(test[0]!.examples)} test examples ${points}.`;
  });
  return `

Calibration for student-first serving (the evaluate stage's \`calibration.json\`; docs/calibration.md): the share of
the test split the student answers alone at each agreement target, the teacher answering the rest, and the agreement
the combination achieved.

${lines.join('\n')}`;
}

/** The teacher-batch result's rows (see `bench/teacher/teacher-batch-benchmark.ts`). */
interface BatchResults {
  providers: {
    provider: string;
    model: string;
    examples: number;
    records_before_last_run: number;
    kills: { phase: string; calls_before_kill: number; run_had_ended: boolean }[];
    last_run_exit_code: number;
    examples_answered: number;
    batches_created: number;
    requests_submitted: number;
    requests_submitted_twice: number;
    estimate_realtime_usd: number;
    estimate_batch_usd: number;
    records_cost_usd: number;
    records_counted_free?: number;
    seconds: number;
  }[];
}

function teacherBatchSection(): string {
  const result = readResult<BatchResults>('teacher-batch');
  const heading = '## Teacher batch mode resumed through kills (issue 16)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only teacher-batch\`.`;
  const settings = result.settings as { kills: string; servers: string; requests_per_batch: number };
  const rows = result.results.providers.map((row) => [
    `${row.provider}/${row.model}`,
    formatNumber(row.examples),
    row.kills.map((kill) => `${kill.phase} after ${kill.calls_before_kill}${kill.run_had_ended ? ' (run had ended)' : ''}`).join(', '),
    formatNumber(row.records_before_last_run),
    row.last_run_exit_code,
    formatNumber(row.examples_answered),
    formatNumber(row.batches_created),
    formatNumber(row.requests_submitted),
    row.requests_submitted_twice,
    `$${formatNumber(row.estimate_realtime_usd, 4)}`,
    `$${formatNumber(row.estimate_batch_usd, 4)}`,
    formatNumber(row.estimate_batch_usd / row.estimate_realtime_usd, 3),
    `$${formatNumber(row.records_cost_usd, 4)}`,
    row.records_counted_free ?? 'n/a',
  ]);
  return `${heading}

${provenance(result)}

Not a timing: a check that batch mode loses nothing and pays nothing twice. Servers: ${settings.servers}.
Kills: ${settings.kills}. Batches of ${formatNumber(settings.requests_per_batch)} requests. *submitted twice* counts
examples whose request reached the provider in more than one batch; *estimate* is \`distill estimate\` on the same
pipeline (40 completion tokens per example); *records $* is what the final records say was paid, at the batch price
(the loopback answers are shorter than the estimate's 40 completion tokens); *counted free* is records that call a
batch-paid answer a cache hit (an answer collected by a killed run is counted as paid by the first record written from it).

${markdownTable(
  [
    'teacher',
    'examples',
    'kills (calls of that phase let through)',
    'records before last run',
    'last run exit',
    'answered',
    'batches',
    'requests submitted',
    'submitted twice',
    'estimate real time',
    'estimate batch',
    'batch / real time',
    'records $',
    'counted free',
  ],
  rows,
)}`;
}

function serveFallbackSection(): string {
  const result = readResult<FallbackLoadResults>('serve-fallback');
  const heading = '## Fallback serving under load (issue 17)';
  if (!result) return `${heading}\n\nNot run yet: \`npm run bench -- --only serve-fallback\`.`;
  const settings = result.settings as unknown as FallbackLoadSettings;
  const { results } = result;
  if (!('rounds' in results)) return `${heading}\n\nThe result file predates repeated rounds: \`npm run bench -- --only serve-fallback\`.`;
  const spread = (value: { median: number; min: number; max: number }, digits: number) =>
    `${formatNumber(value.median, digits)} [${formatNumber(value.min, digits)}–${formatNumber(value.max, digits)}]`;
  const requestsOf = (source: 'student' | 'teacher') =>
    results.rounds.reduce((total, round) => total + round.by_source[source].requests, 0);
  const row = (name: string, requests: number, latency: FallbackLoadResults['latency_by_source']['all']) => [
    name,
    formatNumber(requests),
    spread(latency.p50_ms, 2),
    spread(latency.p99_ms, 2),
  ];
  return `${heading}

${provenance(result)}

\`distill serve --fallback\` (through \`serveStudent\`) with ${settings.student}; teacher: ${settings.teacher}. Target
${settings.target}, threshold ${settings.threshold} (the median confidence of the ${settings.distinct_texts} texts, so about
half go to the teacher). ${results.repeats} rounds of ${formatNumber(settings.requests)} requests of ${settings.texts_per_request} text from
${settings.concurrency} clients at once, in the same process; each figure is the median over the rounds [min–max].
**${spread(results.requests_per_second, 1)} requests/s, ${results.errors} errors**; the teacher received
${formatNumber(results.teacher_requests_received)} requests, and the server's \`/metrics\` counted
${formatNumber(results.metrics_predictions.student)} student and ${formatNumber(results.metrics_predictions.teacher)} teacher predictions.

${markdownTable(
  ['source', 'requests (all rounds)', 'p50 ms', 'p99 ms'],
  [
    row('student', requestsOf('student'), results.latency_by_source.student),
    row('teacher', requestsOf('teacher'), results.latency_by_source.teacher),
    row('all', settings.requests * results.repeats, results.latency_by_source.all),
  ],
)}`;
}

/**
 * One line on a CPU: model, family numbers, the flags that matter, cores and clocks; `measured` is the
 * clock measured on one busy core, as written (it differs from run to run on one machine, so the
 * caller joins the measures of the files that share every other fact).
 */
function describeCpuLine(cpu: CpuDescription, measured: string): string {
  const clocks = [
    `max clock ${cpu.max_mhz === null ? 'not reported' : `${formatNumber(cpu.max_mhz, 0)} MHz`}`,
    `measured ${measured} on one busy core`,
    `nominal ${formatNumber(cpu.nominal_mhz, 0)} MHz`,
  ];
  return [
    `**${cpu.model_name ?? cpu.lscpu_model_name ?? 'unknown CPU'}**`,
    `(${cpu.vendor ?? 'unknown vendor'} family ${cpu.family ?? '?'} model ${cpu.model ?? '?'} stepping ${cpu.stepping ?? '?'}, microcode ${cpu.microcode ?? '?'})`,
    `flags ${cpu.flags.length > 0 ? cpu.flags.map((flag) => `\`${flag}\``).join(' ') : 'none of note'};`,
    `${cpu.logical_cores} logical, ${cpu.physical_cores ?? '?'} physical cores;`,
    `${clocks.join(', ')}${cpu.hypervisor ? `; a ${cpu.hypervisor} virtual machine` : ''}`,
  ].join(' ');
}

/** The machines of the result files, once at the top of the page; results written before issue 18 name only the model string. */
function machinesLine(): string {
  // Keyed by the line without its measured clock: each result file measured the clock itself.
  const described = new Map<string, { cpu: CpuDescription; names: string[]; clocks: number[] }>();
  const bare: string[] = [];
  const files = existsSync(resultsDirectory) ? readdirSync(resultsDirectory).filter((name) => name.endsWith('.json')) : [];
  for (const file of files.sort()) {
    let machine: MachineInfo | undefined;
    try {
      machine = (JSON.parse(readFileSync(path.join(resultsDirectory, file), 'utf8')) as { machine?: MachineInfo }).machine;
    } catch {
      continue;
    }
    if (!machine) continue;
    if (!machine.cpu) {
      bare.push(`\`${file}\` (${machine.cpu_model})`);
      continue;
    }
    const key = describeCpuLine(machine.cpu, '');
    const group = described.get(key) ?? { cpu: machine.cpu, names: [], clocks: [] };
    group.names.push(`\`${file}\``);
    if (machine.cpu.measured_mhz !== null) group.clocks.push(machine.cpu.measured_mhz);
    described.set(key, group);
  }
  const lines = [...described.values()].map(({ cpu, names, clocks }) => {
    const low = Math.min(...clocks);
    const high = Math.max(...clocks);
    const measured =
      clocks.length === 0
        ? 'n/a'
        : low === high
          ? `${formatNumber(low, 0)} MHz`
          : `${formatNumber(low, 0)}–${formatNumber(high, 0)} MHz (one measure per result file)`;
    const line = describeCpuLine(cpu, measured);
    return described.size === 1 ? `- Machine: ${line}.` : `- Machine: ${line} (${names.join(', ')}).`;
  });
  if (bare.length > 0) lines.push(`- Written before the machine description (issue 18), naming only a model string: ${bare.join(', ')}.`);
  return lines.length > 0 ? `\n${lines.join('\n')}\n` : '';
}

/** Notes a person wrote about the last runs (`bench/results/run-notes.md`), shown under the introduction. */
function runNotes(): string {
  const file = path.join(resultsDirectory, 'run-notes.md');
  // The one part of this page a person typed: it says so, so no reader takes it for a measurement.
  return existsSync(file)
    ? `\n> **Written by hand** (\`bench/results/run-notes.md\`, not rendered from a result file): notes on the runs below.\n\n${readFileSync(file, 'utf8').trim()}\n`
    : '';
}

/** Renders BENCHMARKS.md from the result files. */
export function renderBenchmarksMarkdown(): string {
  const text = `# Benchmarks

Every figure below was measured by \`npm run bench\` (quick mode) or \`npm run bench:full\` and is rendered from
the JSON files in \`bench/results/\` (\`<bench>.full.json\` where the full grid was run, else \`<bench>.json\`) by \`bench/render-benchmarks-markdown.ts\`; the only hand-written part, the run notes, is marked as such.
Each section names the run, the machine, its load, and the JSON behind it. Re-run a single bench with
\`npm run bench -- --only <offline-students|teacher-cost|teacher-engine|teacher-batch|serve-fallback|trainer-throughput|student-inference|student-quality|pretrained-quality|pretrained-throughput|pretrained-inference>\`; \`-- --smoke\` checks the benches run in seconds
(its numbers mean nothing).
${machinesLine()}${runNotes()}
${offlineStudentsSection()}

${teacherCostSection()}

${teacherEngineSection()}

${teacherBatchSection()}

${serveFallbackSection()}

${trainerSection()}

${inferenceSection()}

${qualitySection()}

${pretrainedQualitySection()}

${pretrainedThroughputSection()}

${pretrainedInferenceSection()}
`;
  writeFileSync(path.join(repositoryRoot, 'BENCHMARKS.md'), text);
  return text;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) renderBenchmarksMarkdown();
