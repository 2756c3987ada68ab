import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { BatchStore } from '../../../../core/teacher/batch/batch-store.js';
import { repairCache } from '../../../../core/teacher/cache-maintenance.js';
import { TeacherCache } from '../../../../core/teacher/teacher-cache.js';
import { temporaryDirectory } from '../../../support/temporary-directory.js';

const origin = { pluginId: 'fake', pluginVersion: '1.0.0', provider: 'fake', model: 'fake-1' };
const response = { text: 'Answer: yes', usage: { promptTokens: 10, completionTokens: 2 }, model: 'fake-1', finishReason: 'stop' };
const item = (index: number) => ({
  customId: `distill-a-${index}`,
  cacheKey: `key-${index}`,
  exampleId: `e${index}`,
  split: 'train',
  sampleIndex: 0,
});

test('a cache file made before batch mode gets the batch tables on first use, its answers untouched', (context) => {
  const file = path.join(temporaryDirectory(context), 'teacher-cache.sqlite');
  const before = TeacherCache.open(file);
  before.put('key-0', origin, response, 1000);
  before.close();
  const cache = TeacherCache.open(file);
  try {
    const store = BatchStore.of(cache);
    store.begin({ label: 'distill-a', identity: 'teacher', teacher: 'fake@1.0.0 fake/fake-1', itemCount: 2, submittedAt: 2000 }, [
      item(0),
      item(1),
    ]);
    assert.deepEqual(cache.get('key-0')?.response, response);
    assert.equal(cache.statistics().entries, 1);
    assert.deepEqual(
      [...store.liveKeys()],
      [
        ['key-0', 'distill-a'],
        ['key-1', 'distill-a'],
      ],
    );
  } finally {
    cache.close();
  }
});

test('distill cache repair keeps the batch record, so that batches at the provider are collected after it, not submitted again', (context) => {
  const file = path.join(temporaryDirectory(context), 'teacher-cache.sqlite');
  const cache = TeacherCache.open(file);
  const store = BatchStore.of(cache);
  store.begin({ label: 'distill-a', identity: 'teacher', teacher: 'fake@1.0.0 fake/fake-1', itemCount: 2, submittedAt: 2000 }, [
    item(0),
    item(1),
  ]);
  store.setBatchId('distill-a', 'batch_1');
  store.begin({ label: 'distill-b', identity: 'teacher', teacher: 'fake@1.0.0 fake/fake-1', itemCount: 1, submittedAt: 3000 }, [item(2)]);
  cache.put('key-0', origin, response, 1000);
  cache.close();

  const result = repairCache({ path: file, environment: {} });
  assert.equal(result.kept, 1);
  const repaired = TeacherCache.open(file);
  try {
    const after = BatchStore.of(repaired);
    assert.deepEqual(
      after.liveSubmissions('teacher').map((submission) => [submission.label, submission.batchId, submission.state, submission.itemCount]),
      [
        ['distill-a', 'batch_1', 'running', 2],
        ['distill-b', null, 'submitting', 1],
      ],
    );
    assert.deepEqual(after.items('distill-a'), [item(0), item(1)]);
    assert.equal(after.byBatchId('batch_1')?.label, 'distill-a');
  } finally {
    repaired.close();
  }
});
