import { writeFileSync } from 'node:fs';
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

/** Where the fixture pipeline's teacher stage writes. */
export function teachOutputFiles(directory: string): { records: string; report: string; cache: string } {
  return {
    records: path.join(directory, 'runs', 'teach-fixture', 'teacher', 'teacher-records.jsonl'),
    report: path.join(directory, 'runs', 'teach-fixture', 'teacher', 'teacher-report.json'),
    cache: path.join(directory, 'cache', 'teacher-cache.sqlite'),
  };
}
