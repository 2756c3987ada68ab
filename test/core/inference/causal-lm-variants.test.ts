import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { labelEndToken, promptIds, promptText } from '../../../core/inference/decoder-prompt.js';
import { loadStudent, type Student } from '../../../core/inference/load-student.js';
import { readStudentFolder, type CausalLmStudentFolder } from '../../../core/inference/student-folder.js';
import { createStudentTokenizer, type StudentTokenizer } from '../../../core/inference/student-tokenizer.js';
import { tinyCausalLm, tinyCausalLmMissing, type TinyCausalLm } from './tiny-causal-lm-fixture.js';

/** The label PyTorch scores highest and its softmax probability among the labels. */
function pytorchBest(totals: readonly number[]): { index: number; probability: number } {
  const index = totals.indexOf(Math.max(...totals));
  return { index, probability: 1 / totals.reduce((sum, total) => sum + Math.exp(total - totals[index]!), 0) };
}

/** Asserts that label scoring picks PyTorch's best label with its probability within 1e-4. */
async function assertScoresMatch(student: Student, fixture: TinyCausalLm, labels: readonly string[]): Promise<void> {
  const scored = await student.predict(
    fixture.test.map((example) => example.input),
    { scoreLabels: true },
  );
  fixture.reference.label_log_probabilities.forEach((totals, index) => {
    const best = pytorchBest(totals);
    assert.equal(scored[index]!.label, labels[best.index], `label of test example ${index}`);
    assert.ok(
      Math.abs(scored[index]!.confidence! - best.probability) <= 1e-4,
      `confidence ${scored[index]!.confidence} vs PyTorch ${best.probability} (test example ${index})`,
    );
  });
}

describe('a label-then-rationale causal-LM student in Node answers as PyTorch does', { skip: tinyCausalLmMissing() }, () => {
  let fixture: TinyCausalLm;
  let folder: CausalLmStudentFolder;
  let tokenizer: StudentTokenizer;
  let student: Student;
  before(async () => {
    fixture = await tinyCausalLm('label-then-rationale');
    folder = readStudentFolder(fixture.exported) as CausalLmStudentFolder;
    tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
    student = await loadStudent(fixture.exported);
  });
  // Unset when `before` failed, whatever its declared type says.
  after(async () => (student as Student | undefined)?.close());

  test("a label ends at the separator's first token, the one PyTorch stopped at", () => {
    assert.equal(folder.descriptor.targets, 'label-then-rationale');
    const separator = fixture.reference.separator_token!;
    assert.equal(labelEndToken(tokenizer, folder.descriptor), separator);
    assert.notEqual(separator, folder.descriptor.eosTokenId);
    // The trained student answers a label and the separator, so the stop is what ends most labels.
    const stopped = fixture.reference.predict_ids.filter((ids) => ids.length > 1 && ids.at(-1) === separator).length;
    assert.ok(stopped >= fixture.reference.predict_ids.length / 2, `only ${stopped} labels end with the separator`);
  });

  test('free generation stops at the separator: the labels are the text before it, as PyTorch decodes them', async () => {
    const predictions = await student.predict(fixture.test.map((example) => example.input));
    assert.deepEqual(
      predictions.map((prediction) => prediction.label),
      fixture.reference.predict_texts,
    );
    for (const prediction of predictions) assert.ok(!prediction.label.includes('Explanation'), prediction.label);
  });

  test('explain: the rationale is the text after the separator of one generation, the label the text before it', async () => {
    const predictions = await student.predict(
      fixture.test.map((example) => example.input),
      { explain: true },
    );
    assert.deepEqual(
      predictions.map((prediction) => prediction.rationale),
      fixture.reference.rationale_texts,
    );
    assert.deepEqual(
      predictions.map((prediction) => prediction.label),
      fixture.reference.predict_texts,
    );
    // The same generation, unstopped, starts with the label and goes on after the separator.
    const separator = folder.descriptor.rationaleSeparator;
    const whole = fixture.reference.label_then_rationale_texts!;
    const withRationale = whole.filter((text) => text.includes(separator)).length;
    assert.ok(withRationale >= whole.length / 2, `only ${withRationale} generations hold the separator`);
    whole.forEach((text, index) => {
      if (text.includes(separator)) assert.equal(text.slice(0, text.indexOf(separator)).trim(), predictions[index]!.label);
    });
    assert.ok(
      predictions.some((prediction) => prediction.rationale!.length > 0),
      'no rationale was generated',
    );
  });

  test("label scoring ends each label with the separator's first token, as PyTorch scores it", async () => {
    await assertScoresMatch(student, fixture, folder.descriptor.labels!);
  });
});

describe('a chat-prompt causal-LM student in Node builds the prompts of the chat template', { skip: tinyCausalLmMissing() }, () => {
  let fixture: TinyCausalLm;
  let folder: CausalLmStudentFolder;
  let tokenizer: StudentTokenizer;
  let student: Student;
  before(async () => {
    fixture = await tinyCausalLm('chat');
    folder = readStudentFolder(fixture.exported) as CausalLmStudentFolder;
    tokenizer = createStudentTokenizer(folder.tokenizer, folder.tokenizerConfig);
    student = await loadStudent(fixture.exported);
  });
  after(async () => (student as Student | undefined)?.close());

  test('the text before and after the message gives the ids apply_chat_template gives for the real message', () => {
    const { descriptor } = folder;
    assert.equal(descriptor.promptFormat, 'chat');
    assert.equal(descriptor.promptSpecialTokens, false);
    assert.ok(descriptor.chat!.before.includes('<|im_start|>user'), descriptor.chat!.before);
    assert.ok(descriptor.chat!.after.includes('<|im_start|>assistant'), descriptor.chat!.after);
    const inputs = fixture.test.map((example) => example.input);
    const ids = inputs.map((input) => promptIds(tokenizer, descriptor, 'predict', input));
    assert.deepEqual(ids, fixture.reference.chat_template_prompt_ids);
    assert.deepEqual(ids, fixture.reference.predict_prompt_ids);
    // The markers are special tokens of their own, not their characters' pieces.
    const start = tokenizer.encodeText('<|im_start|>', false);
    assert.equal(start.length, 1);
    assert.equal(ids[0]![0], start[0]);
  });

  test('the input cut keeps the task suffix and the chat text after it', () => {
    const { descriptor } = folder;
    const short = fixture.test.map((example) =>
      promptIds(tokenizer, descriptor, 'predict', example.input, fixture.reference.short_input_tokens),
    );
    assert.deepEqual(short, fixture.reference.short_prompt_ids);
    const kept = tokenizer.encodeText(descriptor.tasks.predict.suffix + descriptor.chat!.after, false);
    for (const ids of short) {
      assert.equal(ids.length, fixture.reference.short_input_tokens);
      assert.deepEqual(ids.slice(-kept.length), kept);
    }
  });

  test('greedy ids, labels and label scores equal PyTorch on chat prompts', async () => {
    const prompts = fixture.test.map((example) => promptText(folder.descriptor, 'predict', example.input));
    assert.deepEqual(await student.generateIds(prompts), fixture.reference.predict_ids);
    const predictions = await student.predict(fixture.test.map((example) => example.input));
    assert.deepEqual(
      predictions.map((prediction) => prediction.label),
      fixture.reference.predict_texts,
    );
    await assertScoresMatch(student, fixture, folder.descriptor.labels!);
  });
});
