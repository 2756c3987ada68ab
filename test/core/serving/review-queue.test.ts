import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { standalonePluginDependencies } from '../../../core/plugins/plugin-dependencies.js';
import { ReviewQueue, reviewId } from '../../../core/serving/fallback/review-queue.js';
import { jsonlDataset } from '../../../plugins/datasets/jsonl/jsonl-dataset.js';
import { temporaryDirectory } from '../../support/temporary-directory.js';

test('the review file reads back as training data through the jsonl dataset with the documented field mapping', async (context) => {
  const directory = temporaryDirectory(context);
  const queue = new ReviewQueue(path.join(directory, 'reviews', 'review-queue.jsonl'));
  const common = { time: '2026-12-06T12:00:00.000Z', student_confidence: 0.41, teacher_rationale: 'A person is a man.' };
  queue.append({
    ...common,
    kind: 'fallback',
    input: 'A man plays. </s> A person plays.',
    student_label: 'neutral',
    teacher_label: 'entailment',
    source: 'teacher',
  });
  queue.append({
    ...common,
    kind: 'shadow-disagreement',
    input: 'A dog runs. </s> A cat sleeps.',
    student_label: 'neutral',
    teacher_label: 'contradiction',
    source: 'student',
  });
  const lines = readFileSync(queue.file, 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.equal((JSON.parse(lines[0]!) as { id: string }).id, reviewId('A man plays. </s> A person plays.'));

  const dataset = await jsonlDataset.create(
    {
      files: { train: 'reviews/review-queue.jsonl' },
      id_field: 'id',
      label_field: 'teacher_label',
      fields: { input: 'input' },
      student_input: '{input}',
      labels: ['entailment', 'neutral', 'contradiction'],
    },
    standalonePluginDependencies({ baseDirectory: directory, environment: {} }),
  );
  const examples = [];
  for await (const example of dataset.read('train')) examples.push(example);
  assert.deepEqual(
    examples.map((example) => [example.id, example.fields, example.goldLabel, dataset.studentInput(example)]),
    [
      [
        `train/${reviewId('A man plays. </s> A person plays.')}`,
        { input: 'A man plays. </s> A person plays.' },
        'entailment',
        'A man plays. </s> A person plays.',
      ],
      [
        `train/${reviewId('A dog runs. </s> A cat sleeps.')}`,
        { input: 'A dog runs. </s> A cat sleeps.' },
        'contradiction',
        'A dog runs. </s> A cat sleeps.',
      ],
    ],
  );
});
