import assert from 'node:assert/strict';
import { test } from 'node:test';
import { confusionMatrix } from '../../../core/report/confusion-matrix.js';
import { labelsEqual } from '../../../core/teacher/teacher-report.js';

const labels = ['entailment', 'neutral', 'contradiction'];

test('gold rows against predicted columns, matched with the pipeline comparison', () => {
  const matrix = confusionMatrix(
    labels,
    [
      { gold: 'entailment', predicted: 'Entailment.' },
      { gold: 'entailment', predicted: 'neutral' },
      { gold: 'neutral', predicted: 'neutral' },
      { gold: 'contradiction', predicted: 'entailment' },
    ],
    labelsEqual,
  );
  assert.deepEqual(matrix, {
    labels,
    counts: [
      [1, 1, 0],
      [0, 1, 0],
      [1, 0, 0],
    ],
  });
});

test('an answer outside the label set gets an `other` column (free generation)', () => {
  const matrix = confusionMatrix(
    labels,
    [
      { gold: 'neutral', predicted: 'maybe' },
      { gold: 'neutral', predicted: 'neutral' },
    ],
    labelsEqual,
  );
  assert.deepEqual(matrix.labels, [...labels, 'other']);
  assert.deepEqual(matrix.counts[1], [0, 1, 0, 1]);
  assert.deepEqual(matrix.counts[3], [0, 0, 0, 0]);
});
