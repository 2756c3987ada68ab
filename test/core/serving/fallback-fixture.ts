import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ConfidenceKind } from '../../../core/calibration/calibration-file.js';
import { loadStudent } from '../../../core/inference/load-student.js';
import { testPath } from '../../support/paths.js';
import { tinyStudent } from '../inference/tiny-student-fixture.js';

/** The label set the tiny e-SNLI student is scored on. */
export const nliLabels = ['entailment', 'neutral', 'contradiction'] as const;

/** A copy of the tiny trained student with a calibration file, and its test texts split by the threshold. */
export interface CalibratedStudent {
  readonly model: string;
  readonly threshold: number;
  /** Texts whose student confidence is at or above the threshold (the student answers them). */
  readonly sure: readonly { readonly text: string; readonly label: string; readonly confidence: number }[];
  /** Texts below it (the teacher answers them). */
  readonly unsure: readonly { readonly text: string; readonly label: string; readonly confidence: number }[];
}

/**
 * Copies the tiny trained student into `directory/model` and writes a `calibration.json` (format 1)
 * whose threshold for the target 0.9 is the median of the student's confidences on the fixture's
 * test texts, so that about half of them fall on each side; the target 0.99 is unreachable. The
 * confidence is its label's probability among the NLI labels, or with `mean-token-log-probability`
 * (the student taken as an open-answer one) its freely generated answer's mean token log-probability.
 */
export async function calibratedStudent(directory: string, confidence: ConfidenceKind = 'label-probability'): Promise<CalibratedStudent> {
  const fixture = await tinyStudent('trained');
  const model = path.join(directory, 'model');
  cpSync(fixture.exported, model, { recursive: true });
  const texts = [...new Set(fixture.test.map((example) => example.input))];
  const student = await loadStudent(model);
  const labelProbabilities = confidence === 'label-probability';
  const predictions = await student.predict(
    texts,
    labelProbabilities ? { scoreLabels: true, labels: nliLabels } : { answerLogProbability: true },
  );
  await student.close();
  const scored = texts.map((text, index) => {
    const prediction = predictions[index]!;
    return { text, label: prediction.label, confidence: (labelProbabilities ? prediction.confidence : prediction.meanLogProbability)! };
  });
  const confidences = scored.map((each) => each.confidence).sort((first, second) => first - second);
  const threshold = confidences[Math.floor(confidences.length / 2)]!;
  writeCalibration(
    model,
    [
      { target: 0.9, threshold, expected_coverage: 0.5 },
      { target: 0.99, threshold: null, expected_coverage: 0 },
    ],
    confidence,
  );
  return {
    model,
    threshold,
    sure: scored.filter((each) => each.confidence >= threshold),
    unsure: scored.filter((each) => each.confidence < threshold),
  };
}

/** Writes `calibration.json` (format 1) with these threshold rows into a model folder. */
export function writeCalibration(
  model: string,
  thresholds: readonly { target: number; threshold: number | null; expected_coverage: number }[],
  confidence: ConfidenceKind = 'label-probability',
): void {
  const document = {
    format: 1,
    against: 'teacher',
    split: 'valid',
    examples: 600,
    confidence,
    bound: { method: 'clopper-pearson', level: 0.95 },
    thresholds: thresholds.map((row) => ({ ...row, validation_agreement: 0.95, agreement_lower_bound: 0.91 })),
  };
  writeFileSync(path.join(model, 'calibration.json'), JSON.stringify(document, null, 2) + '\n');
}

/** What the fallback pipeline varies. */
export interface FallbackPipelineFixture {
  readonly directory: string;
  readonly baseUrl: string;
  /** Retries after the first attempt (default 1). */
  readonly maxRetries?: number;
  /** False turns the teacher cache off, so that every teacher-answered text reaches the server (default true). */
  readonly cache?: boolean;
  /** The pipeline's `budget.max_requests` (default: none). */
  readonly maxRequests?: number;
  /** The dataset plugin: `fixture-nli-texts` (default, the NLI label set) or `fixture-open-texts` (no label set). */
  readonly dataset?: 'fixture-nli-texts' | 'fixture-open-texts';
}

/**
 * Writes `pipeline.yaml` into `directory`: a one-field fixture dataset (NLI labels or open answers), the fixture prompt and
 * parser of the teach tests, and the `openai` teacher on a loopback server, priced at $1/$2 per
 * million tokens, with its cache in the directory. Returns the file's path.
 */
export function writeFallbackPipeline(fixture: FallbackPipelineFixture): string {
  const text = `name: fallback-fixture
plugins:
  - ${JSON.stringify(testPath('bin', 'fixtures', 'teach', 'teach-plugins.js'))}
  - ${JSON.stringify(testPath('core', 'serving', 'fixtures', 'fallback-dataset.js'))}
dataset:
  use: ${fixture.dataset ?? 'fixture-nli-texts'}
  splits: { train: train, test: test }
teacher:
  use: openai
  options:
    model: gpt-4o-mini
    base_url: ${fixture.baseUrl}
    api_key: test-key-123456
    max_tokens: 40
    timeout_seconds: 5
  limits:
    concurrency: 4
    max_retries: ${fixture.maxRetries ?? 1}
prompt:
  use: fixture-question-prompt
  options:
    template: "Answer entailment, neutral or contradiction and explain: {input}"
parser:
  use: fixture-answer-parser
student:
  size: tiny
trainer:
  use: torch
prices:
  openai/gpt-4o-mini: { prompt: 1, completion: 2 }
${fixture.maxRequests !== undefined ? `budget:\n  max_requests: ${fixture.maxRequests}\n` : ''}cache:
  enabled: ${fixture.cache ?? true}
  path: ./cache/teacher-cache.sqlite
output:
  directory: ./runs
`;
  const file = path.join(fixture.directory, 'pipeline.yaml');
  writeFileSync(file, text);
  return file;
}
