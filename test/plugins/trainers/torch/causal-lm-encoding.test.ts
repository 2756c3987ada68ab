import assert from 'node:assert/strict';
import { test } from 'node:test';
import { temporaryDirectory } from '../../../support/temporary-directory.js';
import { runWorkerFixture } from './worker-fixture.js';

type Row = [number[], number[]];
interface Alone {
  predict: number[];
  explain: number[];
  suffix: { predict: number[]; explain: number[] };
  label: number[];
  rationale: number[];
  separated_rationale: number[];
}
interface Layout {
  card: { max_input_tokens: number; targets: string };
  rows: { predict: Row[]; explain?: Row[] };
  alone: Alone[];
}
interface Encoded {
  eos: number;
  bos: number;
  layouts: Record<'two-tasks' | 'label-then-rationale', Layout>;
}

/** The worker's rows for both layouts, and each piece tokenised alone (fixtures/decoder-rows.py). */
function encodedRows(tokenizerFolder: string): Encoded {
  return runWorkerFixture('decoder-rows.py', { arguments: [tokenizerFolder], timeoutMilliseconds: 120_000 }) as Encoded;
}

/** A prompt cut as the contract says: in its input, keeping the `kept` suffix tokens. */
function cut(ids: number[], limit: number, kept: number): number[] {
  return ids.length <= limit ? ids : [...ids.slice(0, limit - kept), ...ids.slice(ids.length - kept)];
}

test('causal-LM rows: prompt and targets tokenised apart, prompt tokens never counted, label and rationale tokens marked', (context) => {
  const { eos, bos, layouts } = encodedRows(temporaryDirectory(context, 'distill-decoder-rows-'));
  const twoTasks = layouts['two-tasks'];
  const limit = twoTasks.card.max_input_tokens;
  for (const [index, alone] of twoTasks.alone.entries()) {
    const predictPrompt = cut(alone.predict, limit, alone.suffix.predict.length);
    const explainPrompt = cut(alone.explain, limit, alone.suffix.explain.length);
    assert.equal(predictPrompt[0], bos, 'a plain prompt starts with the begin token');
    const [predictIds, predictTasks] = twoTasks.rows.predict[index]!;
    assert.deepEqual(predictIds, [...predictPrompt, ...alone.label, eos], `example ${index}: predict row = prompt + label + end`);
    assert.deepEqual(predictTasks, [...predictPrompt.map(() => 0), ...alone.label.map(() => 1), 1]);
    const [explainIds, explainTasks] = twoTasks.rows.explain![index]!;
    assert.deepEqual(explainIds, [...explainPrompt, ...alone.rationale, eos], `example ${index}: explain row = prompt + rationale + end`);
    assert.deepEqual(explainTasks, [...explainPrompt.map(() => 0), ...alone.rationale.map(() => 2), 2]);
  }
  // The second example is longer than max_input_tokens: cut in its input, its suffix kept.
  const long = twoTasks.alone[1]!;
  assert.ok(long.predict.length > limit, `the long prompt has ${long.predict.length} tokens`);
  assert.equal(twoTasks.rows.predict[1]![1].filter((task) => task === 0).length, limit);
  assert.deepEqual(twoTasks.rows.predict[1]![0].slice(limit - long.suffix.predict.length, limit), long.suffix.predict);

  const joined = layouts['label-then-rationale'];
  assert.equal(joined.rows.explain, undefined);
  for (const [index, alone] of joined.alone.entries()) {
    const prompt = cut(alone.predict, limit, alone.suffix.predict.length);
    const [ids, tasks] = joined.rows.predict[index]!;
    assert.deepEqual(
      ids,
      [...prompt, ...alone.label, ...alone.separated_rationale, eos],
      `example ${index}: prompt + label + separator and rationale + end`,
    );
    assert.deepEqual(tasks, [...prompt.map(() => 0), ...alone.label.map(() => 1), ...alone.separated_rationale.map(() => 2), 2]);
  }
});
