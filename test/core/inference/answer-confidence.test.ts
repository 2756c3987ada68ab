import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decoderCaches, type StudentSessions } from '../../../core/inference/greedy-decoder.js';
import { loadStudent, type Student } from '../../../core/inference/load-student.js';
import { readStudentFolder, type T5StudentFolder } from '../../../core/inference/student-folder.js';
import { t5CandidateTotals } from '../../../core/inference/t5-candidate-totals.js';
import { tinyStudent, tinyStudentMissing, type TinyStudent } from './tiny-student-fixture.js';

describe("a free answer's mean token log-probability (trained tiny T5)", { skip: tinyStudentMissing() }, () => {
  let fixture: TinyStudent;
  let student: Student;
  before(async () => {
    fixture = await tinyStudent('trained');
    student = await loadStudent(fixture.exported, { maxNewTokens: fixture.reference.max_new_tokens, batchSize: 3 });
  });
  after(async () => (student as Student | undefined)?.close());

  test('equals the teacher-forced total of the greedy ids over their count: two decoding paths, one number', async () => {
    const inputs = fixture.test.map((example) => example.input);
    const predictions = await student.predict(inputs, { answerLogProbability: true });
    // The same labels as without the option: asking for the confidence changes no answer.
    assert.deepEqual(
      predictions.map((prediction) => prediction.label),
      (await student.predict(inputs)).map((prediction) => prediction.label),
    );
    // The one-pass scorer of label scoring, run on the greedy ids PyTorch produced, as a reference.
    const folder = readStudentFolder(fixture.exported) as T5StudentFolder;
    const runtime = await import('onnxruntime-node');
    const encoder = await runtime.InferenceSession.create(folder.encoderPath);
    const decoder = await runtime.InferenceSession.create(folder.decoderPath);
    try {
      const sessions: StudentSessions = { runtime, encoder, decoder, folder, caches: decoderCaches(decoder) };
      let compared = 0;
      for (const [index, ids] of fixture.reference.predict_ids.entries()) {
        const [[total]] = (await t5CandidateTotals(sessions, [fixture.reference.input_ids[index]!], [ids])) as [[number]];
        const mean = predictions[index]!.meanLogProbability!;
        assert.ok(mean <= 0 && Number.isFinite(mean), `row ${index}: ${mean}`);
        assert.ok(Math.abs(mean - total / ids.length) < 1e-4, `row ${index}: ${mean} vs ${total / ids.length}`);
        compared++;
      }
      assert.equal(compared, inputs.length);
    } finally {
      await encoder.release();
      await decoder.release();
    }
  });

  test('does not depend on the batch: each row keeps its own tokens (padding rows add none)', async () => {
    const inputs = fixture.test.map((example) => example.input);
    const batched = await student.predict(inputs, { answerLogProbability: true });
    const single = await loadStudent(fixture.exported, { maxNewTokens: fixture.reference.max_new_tokens, batchSize: 1 });
    try {
      const alone = await single.predict(inputs, { answerLogProbability: true });
      alone.forEach((prediction, index) =>
        assert.ok(Math.abs(prediction.meanLogProbability! - batched[index]!.meanLogProbability!) < 1e-5, `row ${index}`),
      );
    } finally {
      await single.close();
    }
  });

  test('label scoring gives every label a probability, summing to 1, the answer the likeliest', async () => {
    const labels = ['entailment', 'neutral', 'contradiction'];
    const scored = await student.predict(
      fixture.test.map((example) => example.input),
      { scoreLabels: true, labels },
    );
    for (const prediction of scored) {
      const probabilities = prediction.probabilities!;
      assert.deepEqual(Object.keys(probabilities), labels);
      assert.ok(Math.abs(Object.values(probabilities).reduce((sum, value) => sum + value, 0) - 1) < 1e-9);
      assert.equal(probabilities[prediction.label], prediction.confidence);
      assert.equal(Math.max(...Object.values(probabilities)), prediction.confidence);
    }
  });
});
