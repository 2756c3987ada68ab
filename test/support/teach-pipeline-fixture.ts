import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { testPath } from './paths.js';

/** What varies between teach pipelines in tests. */
export interface TeachPipelineFixture {
  readonly directory: string;
  readonly baseUrl: string;
  readonly count: number;
  readonly concurrency?: number;
  readonly maxUsd?: number;
  /** `provider/model` → dollars per million tokens. */
  readonly prices?: Readonly<Record<string, { prompt: number; completion: number }>>;
  readonly model?: string;
  /** The teacher plugin (default `openai`); its server's base URL is `baseUrl`. */
  readonly teacher?: 'openai' | 'anthropic';
  /** More teacher options (`timeout_seconds`, …), as YAML values. */
  readonly teacherOptions?: Readonly<Record<string, string | number>>;
  /** More request-engine limits (`max_retries` replaces the fixture's 2), as YAML values. */
  readonly limits?: Readonly<Record<string, string | number>>;
  readonly maxFailureRate?: number;
  /** The API key line's value; null leaves the key out. */
  readonly apiKey?: string | null;
  /** The cache file (default `./cache/teacher-cache.sqlite`, in the directory). */
  readonly cachePath?: string;
  readonly description?: string;
}

/**
 * Writes `pipeline.yaml` into `directory`: the fixture dataset, prompt and parser plugins
 * (`test/bin/fixtures/teach/teach-plugins.js`), the `openai` teacher pointed at a loopback server,
 * and a cache and output inside the directory. Returns the file's path.
 */
export function writeTeachPipeline(fixture: TeachPipelineFixture): string {
  const prices = Object.entries(fixture.prices ?? {})
    .map(([key, price]) => `  ${key}: { prompt: ${price.prompt}, completion: ${price.completion} }`)
    .join('\n');
  const yamlEntries = (entries: Readonly<Record<string, string | number>>, indent: string) =>
    Object.entries(entries)
      .map(([key, value]) => `${indent}${key}: ${JSON.stringify(value)}\n`)
      .join('');
  const limits = { concurrency: fixture.concurrency ?? 4, max_retries: 2, ...fixture.limits };
  const apiKey = fixture.apiKey === undefined ? 'test-key-123456' : fixture.apiKey;
  const text = `name: teach-fixture
${fixture.description !== undefined ? `description: ${JSON.stringify(fixture.description)}\n` : ''}plugins:
  - ${JSON.stringify(testPath('bin', 'fixtures', 'teach', 'teach-plugins.js'))}
dataset:
  use: fixture-questions
  options:
    count: ${fixture.count}
  splits: { train: train, test: test }
teacher:
  use: ${fixture.teacher ?? 'openai'}
  options:
    model: ${fixture.model ?? 'gpt-4o-mini'}
    base_url: ${fixture.baseUrl}
${apiKey === null ? '' : `    api_key: ${apiKey}\n`}    max_tokens: 40
${yamlEntries(fixture.teacherOptions ?? {}, '    ')}  limits:
${yamlEntries(limits, '    ')}${fixture.maxFailureRate !== undefined ? `  max_failure_rate: ${fixture.maxFailureRate}\n` : ''}prompt:
  use: fixture-question-prompt
parser:
  use: fixture-answer-parser
student:
  size: tiny
trainer:
  use: torch
${prices ? `prices:\n${prices}\n` : ''}${fixture.maxUsd !== undefined ? `budget:\n  max_usd: ${fixture.maxUsd}\n` : ''}cache:
  path: ${fixture.cachePath ?? './cache/teacher-cache.sqlite'}
output:
  directory: ./runs
`;
  const file = path.join(fixture.directory, 'pipeline.yaml');
  writeFileSync(file, text);
  return file;
}

/**
 * Where the fixture pipeline's teacher stage writes: its one stage folder under
 * `runs/teach-fixture/stages/teacher/` (the tests change no teacher input between runs). Looked up
 * when read, so the paths can be taken before `distill teach` has made the folder.
 */
export function teachOutputFiles(directory: string): { readonly records: string; readonly report: string; readonly cache: string } {
  const stageFolder = () => {
    const stages = path.join(directory, 'runs', 'teach-fixture', 'stages', 'teacher');
    const folders = existsSync(stages) ? readdirSync(stages) : [];
    if (folders.length !== 1) throw new Error(`expected one teacher stage folder in ${stages}, found ${folders.length}`);
    return path.join(stages, folders[0]!);
  };
  return {
    get records() {
      return path.join(stageFolder(), 'teacher-records.jsonl');
    },
    get report() {
      return path.join(stageFolder(), 'teacher-report.json');
    },
    cache: path.join(directory, 'cache', 'teacher-cache.sqlite'),
  };
}

/**
 * The `student` and `trainer` blocks that make a teach pipeline train: a T5 small enough to train
 * `maxSteps` steps in seconds on one thread, never validating or checkpointing before its last step.
 */
export function tinyTrainingYaml(maxSteps: number): string {
  return `student:
  size: custom
  config: { d_model: 32, d_ff: 64, d_kv: 16, num_heads: 2, num_layers: 1, num_decoder_layers: 1 }
  tokenizer: { type: unigram, vocab_size: 300 }
  max_input_length: 32
  max_target_length: 32
trainer:
  options: { batch_size: 8, max_steps: ${maxSteps}, eval_every: 1000, checkpoint_every: 1000, warmup_steps: 1, threads: 1 }
`;
}
