import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadPipeline } from '../../core/config/load-pipeline.js';
import { estimatePipeline } from '../../core/teacher/estimate.js';
import type { TeacherRecord } from '../../core/teacher/teacher-record.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { startAnthropicBatchServer } from '../../test/support/anthropic-batch-server.js';
import { batchModeSettings, describeKills, killAtRandomPoints, type KillMoment, type KillPoint } from '../../test/support/random-kills.js';
import { startOpenAiBatchServer } from '../../test/support/openai-batch-server.js';
import { runDistill } from '../../test/support/run-distill.js';
import { teachOutputFiles, writeTeachPipeline } from '../../test/support/teach-pipeline-fixture.js';
import type { BenchMode } from '../support/result-file.js';

/** What the batch bench ran. */
export interface TeacherBatchSettings {
  readonly examples: number;
  readonly requests_per_batch: number;
  readonly kills: string;
  readonly servers: string;
}

/** One provider's resumed batch teach. */
export interface BatchResumeRow {
  readonly provider: string;
  readonly model: string;
  readonly examples: number;
  /** Records in the output after the three killed runs, before the last one. */
  readonly records_before_last_run: number;
  readonly kills: readonly { readonly phase: string; readonly calls_before_kill: number; readonly run_had_ended: boolean }[];
  readonly last_run_exit_code: number;
  /** Records of the final output with a parsed answer, each example once. */
  readonly examples_answered: number;
  readonly batches_created: number;
  readonly requests_submitted: number;
  /** Examples whose request reached the provider in more than one batch. */
  readonly requests_submitted_twice: number;
  /** `distill estimate` for the same pipeline: the teacher's real-time and batch cost. */
  readonly estimate_realtime_usd: number;
  readonly estimate_batch_usd: number;
  /** What the records say was paid, at the batch price. */
  readonly records_cost_usd: number;
  /** Records that call their answer a free cache hit: 0 when every answer a batch paid for is counted once. */
  readonly records_counted_free: number;
  readonly seconds: number;
}

const answer = 'Answer: yes, because the question has an answer of its own';
const promptOf = (index: number) => `Answer yes or no and explain: train question number ${index}`;

/** Kills one teach three times (during submit, poll and collect), runs it to the end, and checks what the server saw. */
async function resumeThroughKills(provider: 'openai' | 'anthropic', examples: number, requestsPerBatch: number): Promise<BatchResumeRow> {
  const started = performance.now();
  const directory = mkdtempSync(path.join(os.tmpdir(), `distill-bench-batch-${provider}-`));
  const model = provider === 'openai' ? 'gpt-4o-mini' : 'claude-3-5-haiku-latest';
  const settings = batchModeSettings(requestsPerBatch);
  try {
    let points: KillPoint[];
    let submittedTimes: (prompt: string) => number;
    let totals: () => { batches: number; requests: number };
    let close: () => Promise<void>;
    let baseUrl: string;
    if (provider === 'openai') {
      const server = await startOpenAiBatchServer({
        script: () => ({ kind: 'answer', text: answer }),
        plan: () => ({ kind: 'complete', afterPolls: 4 }),
      });
      const count = (test: (call: { method: string; path: string }) => boolean) => () => server.calls.filter(test).length;
      points = [
        { phase: 'submit', calls: () => server.submissions },
        { phase: 'poll', calls: count((call) => call.method === 'GET' && /^\/v1\/batches\/[^/]+$/.test(call.path)) },
        { phase: 'collect', calls: count((call) => call.method === 'GET' && /^\/v1\/files\/[^/]+\/content$/.test(call.path)) },
      ];
      submittedTimes = (prompt) => server.timesSubmittedPrompt(prompt);
      totals = () => ({ batches: server.submissions, requests: server.batches.reduce((sum, batch) => sum + batch.lines.length, 0) });
      close = () => server.close();
      baseUrl = server.baseUrl;
    } else {
      const server = await startAnthropicBatchServer({ script: () => ({ kind: 'answer', text: answer }), pollsUntilEnded: 4 });
      const count = (route: string) => () => server.calls.filter((call) => call.route === route).length;
      points = [
        { phase: 'submit', calls: () => server.batchesCreated },
        { phase: 'poll', calls: count('retrieve') },
        { phase: 'collect', calls: count('results') },
      ];
      submittedTimes = (prompt) => server.submissionsFor(prompt);
      totals = () => ({ batches: server.batchesCreated, requests: server.requestsSubmitted });
      close = () => server.close();
      baseUrl = server.baseUrl;
    }
    try {
      const pipeline = writeTeachPipeline({ directory, baseUrl, count: examples, teacher: provider, model });
      const moments: KillMoment[] = await killAtRandomPoints(['teach', pipeline, ...settings], points);
      console.log(`  ${provider}: ${describeKills(moments)}`);
      const { records: recordsFile } = teachOutputFiles(directory);
      const before = readRecords(recordsFile).length;
      const last = await runDistill(['teach', pipeline, ...settings, '--json'], {}, 600_000);
      const records = readRecords(recordsFile);
      const answered = new Set(records.filter((record) => record.parse_status === 'parsed').map((record) => record.id));
      let twice = 0;
      for (let index = 0; index < examples; index++) if (submittedTimes(promptOf(index)) > 1) twice++;
      const loaded = await loadPipeline(pipeline, { registry: builtinRegistry(), environment: {} });
      const own = (await estimatePipeline(loaded, { completionTokens: 40 })).rows.find((row) => row.teacher)!;
      return {
        provider,
        model,
        examples,
        records_before_last_run: before,
        kills: moments.map((moment) => ({
          phase: moment.phase,
          calls_before_kill: moment.callsBeforeKill,
          run_had_ended: moment.exitedWith !== null,
        })),
        last_run_exit_code: last.code ?? -1,
        examples_answered: answered.size,
        batches_created: totals().batches,
        requests_submitted: totals().requests,
        requests_submitted_twice: twice,
        estimate_realtime_usd: own.cost_usd ?? 0,
        estimate_batch_usd: own.batch_cost_usd ?? 0,
        records_cost_usd: Number(records.reduce((sum, record) => sum + record.cost_usd, 0).toFixed(6)),
        records_counted_free: records.filter((record) => record.cached).length,
        seconds: Number(((performance.now() - started) / 1000).toFixed(1)),
      };
    } finally {
      await close();
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

function readRecords(file: string): TeacherRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as TeacherRecord);
}

/**
 * Issue 16's batch demonstration: for each provider, a batch-mode teach of 2,000 examples against the
 * provider's loopback batch server (its real wire protocol, driven through the official SDK), killed
 * with SIGKILL three times at random points (once each while submitting, polling and collecting),
 * then run to the end; what the server saw is counted, and `distill estimate` prices the same
 * pipeline in real time and in batch mode.
 */
export async function runTeacherBatchBenchmark(mode: BenchMode) {
  const examples = mode === 'smoke' ? 200 : 2000;
  const requestsPerBatch = mode === 'smoke' ? 25 : 250;
  const rows: BatchResumeRow[] = [];
  for (const provider of ['openai', 'anthropic'] as const) rows.push(await resumeThroughKills(provider, examples, requestsPerBatch));
  const settings: TeacherBatchSettings = {
    examples,
    requests_per_batch: requestsPerBatch,
    kills:
      'SIGKILL of `distill teach` three times per provider: after 1–3 (random) more submissions, status polls and result downloads respectively, plus up to 20 ms; then one run to the end',
    servers:
      'test/support/openai-batch-server.ts (Files + Batches API) and test/support/anthropic-batch-server.ts (Message Batches), in the bench process on 127.0.0.1; batches end after 4 status polls',
  };
  return { settings, results: { providers: rows } };
}
