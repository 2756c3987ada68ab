import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { TeacherRecord } from '../../../core/teacher/teacher-record.js';
import { builtinRegistry, runPipeline } from '../../../plugins/index.js';
import { tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { startProviderServer } from '../../support/provider-server.js';
import { tinyTrainingYaml, writeTeachPipeline } from '../../support/teach-pipeline-fixture.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

// Self-consistency end to end: an OpenAI teacher behind a loopback server answers each of 30
// questions 5 times (one request with n = 5) with varied labels; the teacher stage keeps the
// majority and its vote share; `min-confidence` drops the unsure examples, `majority-rationales`
// keeps the longest agreeing rationale, the `confidence` loss weights each example by its
// confidence in a real (tiny) PyTorch training; the report charts the teacher's reliability. Every
// count is checked against what the server sent; then a sweep over the threshold on the same
// teacher stage. Loopback answers say nothing of quality.

const count = 30;
const threshold = 0.7;

/**
 * The 5 answers to question i: `i % 6` of them say yes (in front), the rest no; where `i % 5 == 4`
 * the last answer has no label word (unparsed, still counted as asked). Each rationale is longer
 * than the one before it.
 */
function answersTo(prompt: string): string[] {
  const index = Number(/question number (\d+)/.exec(prompt)![1]);
  const yes = index % 6;
  const answers = Array.from(
    { length: 5 },
    (_, choice) => `Answer: ${choice < yes ? 'yes' : 'no'}, because reason ${choice} ${'indeed '.repeat(choice)}of question ${index}`,
  );
  if (index % 5 === 4) answers[4] = 'I would rather not say.';
  return answers;
}

/** What the answers of one question come to, counted here from the server's texts. */
function expectedRecord(answers: readonly string[]): { label: string; confidence: number; votes: Record<string, number>; longest: string } {
  const labels = answers.map((text) => /^Answer: (\w+)/.exec(text)?.[1] ?? null);
  const votes: Record<string, number> = {};
  for (const label of labels) if (label) votes[label] = (votes[label] ?? 0) + 1;
  const top = Math.max(...Object.values(votes));
  // Ties go to the label of the earliest answer among the tied.
  const label = labels.find((each) => each !== null && votes[each] === top)!;
  const agreeing = answers.filter((_, choice) => labels[choice] === label).map((text) => /because (.*)$/.exec(text)![1]!);
  const longest = agreeing.reduce((best, each) => (each.length > best.length ? each : best));
  return { label, confidence: top / answers.length, votes, longest };
}

test(
  'samples: 5 → min-confidence → confidence-weighted training → reliability chart, every count as the server answered',
  { skip: tinyStudentMissing(), timeout: 600_000 },
  async (context) => {
    const sent = new Map<string, string[]>();
    const server = await startProviderServer('openai', (request) => {
      const answers = answersTo(request.prompt);
      sent.set(request.prompt, answers);
      return {
        kind: 'answer',
        text: answers[0]!,
        choices: answers.map((text) => ({ text })),
        usage: { promptTokens: 50, completionTokens: 60 },
      };
    });
    context.after(() => server.close());
    const directory = temporaryDirectory(context, 'distill-self-consistency-');
    const base = writeTeachPipeline({ directory, baseUrl: server.baseUrl, count, teacherOptions: { temperature: 0.7 } });
    const pipeline = path.join(directory, 'self-consistency.yaml');
    writeFileSync(
      pipeline,
      `extends: ${JSON.stringify(base)}
teacher:
  samples: 5
samplers:
  - use: min-confidence
    options: { threshold: ${threshold} }
  - use: majority-rationales
    options: { keep: longest }
loss:
  use: confidence
  options: { alpha: 0.5 }
${tinyTrainingYaml(3)}`,
    );
    const result = await runPipeline(pipeline, { registry: builtinRegistry(), environment: process.env, until: 'trainer' });

    // One request per training question, each asking 5 answers at temperature 0.7.
    assert.equal(server.requests.length, count);
    assert.ok(server.requests.every((request) => request.body.n === 5 && request.body.temperature === 0.7));
    assert.equal(sent.size, count);

    // The teacher records: the majority, its votes and vote share, the longest agreeing rationale.
    const teacherDirectory = result.outcomes.of('teacher')!.directory;
    const records = readFileSync(path.join(teacherDirectory, 'teacher-records.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as TeacherRecord);
    assert.equal(records.length, count);
    const expected = new Map<string, ReturnType<typeof expectedRecord>>();
    for (const [prompt, answers] of sent) expected.set(/question number (\d+)/.exec(prompt)![1]!, expectedRecord(answers));
    for (const record of records) {
      const want = expected.get(record.id.slice(1))!;
      assert.deepEqual(
        [record.teacher_label, record.confidence, record.confidence_source, record.votes, record.samples?.length],
        [want.label, want.confidence, 'votes', want.votes, 5],
        record.id,
      );
    }
    const confidences = new Set(records.map((record) => record.confidence));
    assert.ok(confidences.has(0.4) && confidences.has(0.6) && confidences.has(0.8) && confidences.has(1), 'varied confidence');

    // The trainer's data: the held-out validation aside, exactly the examples at or above the
    // threshold, each with the longest agreeing rationale and its confidence as weight.
    const trainerDirectory = result.outcomes.of('trainer')!.directory;
    const lines = (file: string) =>
      readFileSync(path.join(trainerDirectory, 'data', file), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; label: string; rationale: string; weight?: number });
    const validation = new Set(lines('validation.jsonl').map((line) => line.id));
    assert.ok(validation.size > 0 && validation.size < count);
    const kept = records.filter((record) => !validation.has(record.id) && record.confidence! >= threshold);
    const train = lines('train.jsonl');
    assert.deepEqual(
      train.map((line) => line.id),
      kept.map((record) => record.id),
    );
    assert.ok(kept.length < count - validation.size, 'some examples were dropped for their confidence');
    for (const line of train) {
      const want = expected.get(line.id.slice(1))!;
      assert.deepEqual([line.label, line.rationale, line.weight], [want.label, want.longest, want.confidence], line.id);
    }
    assert.ok(
      lines('validation.jsonl').every((line) => line.weight === undefined),
      'evaluation examples carry no weight',
    );
    assert.equal(result.outcomes.of('trainer')!.record.output.status, 'completed');

    // The report: bins of confidence against accuracy on gold (yes for even questions), counted from the server's answers.
    const bins = new Map<number, { records: number; correct: number }>();
    for (const [id, want] of expected) {
      const bin = Math.min(9, Math.floor(want.confidence * 10 + 1e-9));
      const gold = Number(id) % 2 === 0 ? 'yes' : 'no';
      const counts = bins.get(bin) ?? { records: 0, correct: 0 };
      bins.set(bin, { records: counts.records + 1, correct: counts.correct + (want.label === gold ? 1 : 0) });
    }
    const reliability = result.summary.reliability!;
    assert.equal(reliability.records, count);
    assert.equal(reliability.binned, count);
    assert.deepEqual(reliability.sources, [{ source: 'votes', records: count }]);
    assert.deepEqual(
      reliability.bins.map((bin) => [bin.records, bin.correct]),
      reliability.bins.map((_, index) => [bins.get(index)?.records ?? 0, bins.get(index)?.correct ?? 0]),
    );
    const html = readFileSync(result.report.html, 'utf8');
    assert.match(html, /<figcaption>Teacher reliability<\/figcaption>/);
    for (const [index, counts] of bins) {
      const name = `${index / 10}–${(index + 1) / 10 === 1 ? 1 : (index + 1) / 10}`;
      assert.ok(html.includes(`<tr><td>${name}</td><td>${counts.records}</td><td>${counts.correct}</td>`), `bin ${name} in the report`);
    }

    // A sweep over the threshold on the same teacher stage: no new request, the confidence loss kept
    // at every point, each point trained on the examples at or above its threshold.
    const swept = await runPipeline(pipeline, {
      registry: builtinRegistry(),
      environment: process.env,
      overrides: ['sweep={min_confidence: [0, 0.8]}'],
    });
    assert.equal(server.requests.length, count, 'the teacher is not asked again');
    assert.deepEqual(
      swept.summary.sweep.map((point) => [point.minConfidence, point.alpha, point.accuracies.length]),
      [
        [0, null, 1],
        [0.8, null, 1],
      ],
    );
    const trainerStages = path.join(swept.runDirectory, 'stages', 'trainer');
    const trained = readdirSync(trainerStages).map((folder) =>
      readFileSync(path.join(trainerStages, folder, 'data', 'train.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; weight?: number }),
    );
    const idsAtOrAbove = (least: number) =>
      records.filter((record) => !validation.has(record.id) && record.confidence! >= least).map((record) => record.id);
    const trainedSets = trained.map((lines) => lines.map((line) => line.id).join(' '));
    for (const least of [0, threshold, 0.8])
      assert.ok(trainedSets.includes(idsAtOrAbove(least).join(' ')), `a student trained on confidence ≥ ${least}`);
    assert.ok(
      trained.every((lines) => lines.every((line) => line.weight === expected.get(line.id.slice(1))!.confidence)),
      'every point weights by confidence',
    );
    assert.match(readFileSync(swept.report.html, 'utf8'), /<th>min confidence<\/th>/);
  },
);
