import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { formatUserError } from '../../../core/errors/format-user-error.js';
import { isUserError } from '../../../core/errors/user-error.js';
import type { FallbackPrediction } from '../../../core/serving/fallback/fallback-router.js';
import type { ReviewRecord } from '../../../core/serving/fallback/review-queue.js';
import { serveStudent, type RunningServer, type ServeFallbackOptions } from '../../../core/serving/serve-student.js';
import { loadPipeline } from '../../../plugins/index.js';
import { startProviderServer, type ProviderServer, type ServerScript } from '../../support/provider-server.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';
import { tinyStudentMissing } from '../inference/tiny-student-fixture.js';
import { calibratedStudent, nliLabels, writeCalibration, writeFallbackPipeline, type CalibratedStudent } from './fallback-fixture.js';

const promptOf = (text: string) => `Answer entailment, neutral or contradiction and explain: ${text}`;

/** What one fallback server of a test runs with, closed after the test. */
interface FallbackSetup {
  readonly student: CalibratedStudent;
  readonly teacher: ProviderServer;
  readonly server: RunningServer;
  readonly warnings: string[];
}

async function startFallback(
  context: TestContext,
  script: ServerScript,
  options: Partial<Omit<ServeFallbackOptions, 'pipeline'>> & {
    maxRetries?: number;
    maxRequests?: number;
    token?: string;
    /** The student taken as an open-answer one: no label set, its mean token log-probability calibrated. */
    openAnswers?: boolean;
  } = {},
): Promise<FallbackSetup> {
  const directory = temporaryDirectory(context, 'distill-fallback-');
  const { maxRetries, maxRequests, token, openAnswers, ...fallback } = options;
  const student = await calibratedStudent(directory, openAnswers ? 'mean-token-log-probability' : 'label-probability');
  const teacher = await startProviderServer('openai', script);
  context.after(() => teacher.close());
  const dataset = openAnswers ? 'fixture-open-texts' : 'fixture-nli-texts';
  const pipeline = await loadPipeline(writeFallbackPipeline({ directory, baseUrl: teacher.baseUrl, maxRetries, maxRequests, dataset }));
  const warnings: string[] = [];
  const server = await serveStudent({
    model: student.model,
    port: 0,
    token,
    fallback: { pipeline, target: 0.9, warn: (line) => warnings.push(line), ...fallback },
  });
  context.after(() => server.close());
  return { student, teacher, server, warnings };
}

async function predict(server: RunningServer, inputs: readonly string[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${server.url}/predict`, { method: 'POST', body: JSON.stringify({ inputs }) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** The value of one sample line of a Prometheus text (the name with its labels, as written). */
function metric(text: string, sample: string): number {
  const line = text.split('\n').find((each) => each.startsWith(`${sample} `));
  assert.ok(line, `no sample ${sample} in:\n${text}`);
  return Number(line.slice(sample.length + 1));
}

async function metricsOf(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return response.text();
}

function reviewLines(file: string): ReviewRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ReviewRecord);
}

const teacherSays =
  (label: string): ServerScript =>
  () => ({ kind: 'answer', text: `Answer: ${label}, because the teacher read it so.` });

/**
 * Sends every fixture text, sure ones first, in one request and checks the routing: each sure text
 * answered by the student and never sent to the teacher; each unsure one answered by the teacher
 * with `teacherLabel`, asked once.
 */
async function assertRouted(setup: FallbackSetup, teacherLabel: string): Promise<void> {
  const { student, teacher, server } = setup;
  assert.ok(student.sure.length > 0 && student.unsure.length > 0, 'the fixture threshold splits the texts');
  const texts = [...student.sure, ...student.unsure].map((each) => each.text);
  const { status, body } = await predict(server, texts);
  assert.equal(status, 200);
  const predictions = body.predictions as FallbackPrediction[];
  for (const [index, sure] of student.sure.entries()) {
    assert.deepEqual(predictions[index], {
      label: sure.label,
      source: 'student',
      confidence: sure.confidence,
      threshold: student.threshold,
    });
    assert.equal(teacher.countFor(promptOf(sure.text)), 0, 'a sure text never reaches the teacher');
  }
  for (const [offset, unsure] of student.unsure.entries()) {
    assert.deepEqual(predictions[student.sure.length + offset], {
      label: teacherLabel,
      rationale: 'the teacher read it so.',
      source: 'teacher',
      confidence: unsure.confidence,
      threshold: student.threshold,
    });
    assert.equal(teacher.countFor(promptOf(unsure.text)), 1);
  }
  assert.equal(teacher.requests.length, student.unsure.length);
}

describe('distill serve --fallback against a loopback teacher', { skip: tinyStudentMissing() }, () => {
  test('texts below the threshold reach the teacher, those above never do; metrics and the review file match', async (context) => {
    const setup = await startFallback(context, teacherSays('contradiction'));
    await assertRouted(setup, 'contradiction');
    const { student, server } = setup;

    const metrics = await metricsOf(server);
    assert.equal(metric(metrics, 'distill_predictions_total{source="student"}'), student.sure.length);
    assert.equal(metric(metrics, 'distill_predictions_total{source="teacher"}'), student.unsure.length);
    assert.equal(metric(metrics, 'distill_prediction_latency_seconds_count{source="teacher"}'), student.unsure.length);
    assert.equal(metric(metrics, 'distill_prediction_latency_seconds_bucket{source="student",le="+Inf"}'), student.sure.length);
    // The recorded answer bills 42 prompt and 24 completion tokens, priced at $1 and $2 per million.
    assert.equal(metric(metrics, 'distill_teacher_tokens_total{kind="prompt"}'), 42 * student.unsure.length);
    assert.equal(metric(metrics, 'distill_teacher_tokens_total{kind="completion"}'), 24 * student.unsure.length);
    assert.ok(Math.abs(metric(metrics, 'distill_teacher_spend_dollars_total') - (student.unsure.length * (42 + 48)) / 1e6) < 1e-12);
    assert.equal(metric(metrics, 'distill_teacher_failures_total{reason="failed"}'), 0);
    assert.match(metrics, /^# HELP distill_predictions_total .+\n# TYPE distill_predictions_total counter$/m);
    assert.match(metrics, /^# TYPE distill_prediction_latency_seconds histogram$/m);

    const review = reviewLines(server.fallback!.reviewFile);
    assert.equal(server.fallback!.reviewFile, path.join(student.model, 'review-queue.jsonl'));
    assert.deepEqual(
      review.map((record) => [
        record.kind,
        record.input,
        record.student_label,
        record.student_confidence,
        record.teacher_label,
        record.source,
      ]),
      student.unsure.map((unsure) => ['fallback', unsure.text, unsure.label, unsure.confidence, 'contradiction', 'teacher']),
    );
    assert.ok(review.every((record) => record.teacher_rationale === 'the teacher read it so.' && !Number.isNaN(Date.parse(record.time))));
  });

  test('a teacher failing with 500s after its retries is a 502 naming the reason; the student is never silently used', async (context) => {
    const { student, teacher, server } = await startFallback(context, () => ({ kind: 'error', fixture: 'openai-error-server' }), {
      maxRetries: 1,
    });
    const { status, body } = await predict(server, [student.unsure[0]!.text]);
    assert.equal(status, 502);
    const error = body.error as { status: number; message: string };
    assert.equal(error.status, 502);
    assert.match(error.message, /the teacher could not answer/);
    assert.match(error.message, /after 2 attempts/);
    assert.doesNotMatch(error.message, /test-key-123456/);
    assert.equal(teacher.requests.length, 2, 'the first attempt and one retry');
    const metrics = await metricsOf(server);
    assert.equal(metric(metrics, 'distill_teacher_failures_total{reason="failed"}'), 1);
    assert.equal(metric(metrics, 'distill_predictions_total{source="teacher"}'), 0);
    assert.deepEqual(reviewLines(server.fallback!.reviewFile), [], 'nothing the teacher did not answer goes to review');
    // A sure text is still answered by the student while the teacher is down.
    const sure = await predict(server, [student.sure[0]!.text]);
    assert.equal(sure.status, 200);
  });

  test('a teacher label outside the label set is never served: a 502 quoting it, or the student marked with --on-teacher-failure student', async (context) => {
    const { student, teacher, server } = await startFallback(context, teacherSays('maybe'));
    const unsure = student.unsure[0]!;
    const { status, body } = await predict(server, [unsure.text]);
    assert.equal(status, 502);
    assert.match(
      (body.error as { message: string }).message,
      /the teacher answered "maybe", which is not one of the labels \(entailment, neutral, contradiction\)/,
    );
    assert.equal(teacher.requests.length, 1, 'an answer outside the set is not retried: the teacher was heard');
    assert.deepEqual(reviewLines(server.fallback!.reviewFile), []);
    const metrics = await metricsOf(server);
    assert.equal(metric(metrics, 'distill_teacher_failures_total{reason="failed"}'), 1);

    const marked = await startFallback(context, teacherSays('Maybe'), { onTeacherFailure: 'student' });
    const answer = await predict(marked.server, [marked.student.unsure[0]!.text]);
    assert.equal(answer.status, 200);
    assert.deepEqual((answer.body.predictions as FallbackPrediction[])[0], {
      label: marked.student.unsure[0]!.label,
      source: 'student',
      confidence: marked.student.unsure[0]!.confidence,
      threshold: marked.student.threshold,
      fallback_failed: true,
    });
  });

  test('open answers: the mean token log-probability of the free answer against its calibrated threshold decides; the teacher answers the rest as parsed', async (context) => {
    const setup = await startFallback(context, teacherSays('42'), { openAnswers: true });
    assert.ok(setup.student.threshold <= 0, 'a log-probability threshold');
    await assertRouted(setup, '42');
    const { student, server } = setup;
    assert.deepEqual(
      reviewLines(server.fallback!.reviewFile).map((record) => [record.input, record.student_confidence, record.teacher_label]),
      student.unsure.map((unsure) => [unsure.text, unsure.confidence, '42']),
    );
  });

  test("with --on-teacher-failure student a timed-out teacher gives the student's answer marked fallback_failed", async (context) => {
    const { student, server } = await startFallback(context, () => ({ kind: 'hang' }), { maxRetries: 0, onTeacherFailure: 'student' });
    const unsure = student.unsure[0]!;
    const { status, body } = await predict(server, [unsure.text, student.sure[0]!.text]);
    assert.equal(status, 200);
    assert.deepEqual(body.predictions, [
      { label: unsure.label, source: 'student', confidence: unsure.confidence, threshold: student.threshold, fallback_failed: true },
      { label: student.sure[0]!.label, source: 'student', confidence: student.sure[0]!.confidence, threshold: student.threshold },
    ]);
    const metrics = await metricsOf(server);
    assert.equal(metric(metrics, 'distill_teacher_failures_total{reason="failed"}'), 1);
    assert.equal(metric(metrics, 'distill_predictions_total{source="student"}'), 2);
  });

  test("a spent budget (the pipeline's max_requests) is a 503; /metrics needs the bearer token like every route", async (context) => {
    const token = 'fallback-metrics-token';
    const { student, teacher, server } = await startFallback(context, teacherSays('neutral'), { maxRequests: 1, token });
    assert.ok(student.unsure.length >= 2, 'two texts below the threshold');
    const post = (text: string) =>
      fetch(`${server.url}/predict`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ inputs: [text] }),
      });
    assert.equal((await post(student.unsure[0]!.text)).status, 200);
    const spent = await post(student.unsure[1]!.text);
    assert.equal(spent.status, 503);
    assert.match(((await spent.json()) as { error: { message: string } }).error.message, /budget is spent/);
    assert.equal(teacher.requests.length, 1);
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(metrics.status, 200);
    assert.equal(metric(await metrics.text(), 'distill_teacher_failures_total{reason="budget"}'), 1);
  });

  test('--shadow 1 sends every student answer to the teacher after the response; disagreements go to review and below-target agreement is logged', async (context) => {
    // The teacher agrees with the student on the first sure text only, and gives another label of the set on the rest.
    const teacherLabels = new Map<string, string>();
    const { student, teacher, server, warnings } = await startFallback(
      context,
      (request) => {
        const label = teacherLabels.get(request.prompt) ?? 'missing';
        return { kind: 'answer', text: `Answer: ${label}, because the teacher read it so.` };
      },
      { shadow: 1, shadowWindow: 10 },
    );
    const agreeOn = student.sure[0]!.text;
    for (const [index, sure] of student.sure.entries()) {
      teacherLabels.set(promptOf(sure.text), index === 0 ? sure.label : nliLabels.find((label) => label !== sure.label)!);
    }
    const texts = student.sure.map((each) => each.text);
    const { status, body } = await predict(server, texts);
    assert.equal(status, 200);
    assert.ok((body.predictions as FallbackPrediction[]).every((prediction) => prediction.source === 'student'));
    await server.whenShadowsDone();
    assert.equal(teacher.requests.length, texts.length);
    const metrics = await metricsOf(server);
    assert.equal(metric(metrics, 'distill_shadow_comparisons_total{agreed="true"}'), 1);
    assert.equal(metric(metrics, 'distill_shadow_comparisons_total{agreed="false"}'), texts.length - 1);
    assert.equal(metric(metrics, 'distill_predictions_total{source="teacher"}'), 0, 'shadow answers are not served');
    // The last 10 comparisons hold at most the one agreement (which of them end last is the teacher's timing).
    assert.ok(metric(metrics, 'distill_shadow_agreement') <= 1 / Math.min(10, texts.length));
    assert.equal(metric(metrics, 'distill_shadow_agreement_below_target'), 1);
    assert.equal(warnings.length, 1, 'said once when it falls, not on every comparison');
    assert.match(warnings[0]!, /live shadow agreement .* below the target 0\.9/);
    const review = reviewLines(server.fallback!.reviewFile);
    assert.deepEqual(
      review.map((record) => [record.kind, record.source]).sort(),
      Array.from({ length: texts.length - 1 }, () => ['shadow-disagreement', 'student']),
    );
    assert.ok(!review.some((record) => record.input === agreeOn));
  });
});

describe('distill serve --fallback refuses bad input before it listens', { skip: tinyStudentMissing() }, () => {
  async function refusal(context: TestContext, prepare: (model: string) => void, target: number): Promise<string> {
    const directory = temporaryDirectory(context, 'distill-fallback-');
    const student = await calibratedStudent(directory);
    prepare(student.model);
    const pipeline = await loadPipeline(writeFallbackPipeline({ directory, baseUrl: 'http://127.0.0.1:9/v1' }));
    const error: unknown = await serveStudent({ model: student.model, port: 0, fallback: { pipeline, target } }).then(
      async (server) => {
        await server.close();
        return undefined;
      },
      (rejection: unknown) => rejection,
    );
    assert.ok(isUserError(error), `a UserError, got ${String(error)}`);
    return formatUserError(error);
  }

  test('a model folder without calibration.json names distill calibrate', async (context) => {
    const { rmSync } = await import('node:fs');
    const message = await refusal(context, (model) => rmSync(path.join(model, 'calibration.json')), 0.9);
    assert.match(message, /no calibration\.json/);
    assert.match(message, /distill calibrate/);
  });

  test('a target the file has no row for lists the reachable targets', async (context) => {
    const message = await refusal(context, () => undefined, 0.95);
    assert.match(message, /no threshold for the target 0\.95/);
    assert.match(message, /reachable targets: 0\.9 \(threshold/);
  });

  test('a target whose threshold is null says no threshold reaches it and lists the reachable ones', async (context) => {
    const message = await refusal(context, () => undefined, 0.99);
    assert.match(message, /reaches the target agreement 0\.99/);
    assert.match(message, /reachable targets: 0\.9 /);
  });

  test('a malformed calibration file names the JSON pointer', async (context) => {
    const message = await refusal(
      context,
      (model) => writeCalibration(model, [{ target: 0.9, threshold: 0.5, expected_coverage: 2 }]),
      0.9,
    );
    assert.match(message, /\/thresholds\/0\/expected_coverage/);
    assert.match(message, /must be a share between 0 and 1/);
  });
});
