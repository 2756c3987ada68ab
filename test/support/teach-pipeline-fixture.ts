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
  const text = `name: teach-fixture
plugins:
  - ${JSON.stringify(testPath('bin', 'fixtures', 'teach', 'teach-plugins.js'))}
dataset:
  use: fixture-questions
  options:
    count: ${fixture.count}
  splits: { train: train, test: test }
teacher:
  use: openai
  options:
    model: ${fixture.model ?? 'gpt-4o-mini'}
    base_url: ${fixture.baseUrl}
    api_key: test-key-123456
    max_tokens: 40
  limits:
    concurrency: ${fixture.concurrency ?? 4}
    max_retries: 2
prompt:
  use: fixture-question-prompt
parser:
  use: fixture-answer-parser
student:
  size: tiny
trainer:
  use: torch
${prices ? `prices:\n${prices}\n` : ''}${fixture.maxUsd !== undefined ? `budget:\n  max_usd: ${fixture.maxUsd}\n` : ''}cache:
  path: ./cache/teacher-cache.sqlite
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
