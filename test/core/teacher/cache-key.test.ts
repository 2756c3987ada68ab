import assert from 'node:assert/strict';
import test from 'node:test';
import { canonicalHash } from '../../../core/canonical-json.js';
import type { TeacherMessage } from '../../../core/plugins/kinds/teacher.js';
import { teacherCacheKey, teacherCacheKeys, type CacheKeyParts } from '../../../core/teacher/cache-key.js';

/** The key as it was defined before the shared parts were written once: the hash of this object's canonical JSON. */
function keyOfTheObject(parts: CacheKeyParts): string {
  return canonicalHash({
    teacher: { id: parts.pluginId, version: parts.pluginVersion },
    model: parts.model,
    messages: parts.messages.map((message) => ({ role: message.role, content: message.content })),
    options: parts.requestOptions,
    ...(parts.sampleIndex !== undefined && parts.sampleIndex > 0 ? { sample: parts.sampleIndex } : {}),
  });
}

test('the keys of existing caches are unchanged: two keys pinned as earlier versions wrote them', () => {
  const parts = {
    pluginId: 'openai',
    pluginVersion: '1.0.0',
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Q: Is the sky blue?' }] as const,
    requestOptions: { temperature: 0, max_tokens: 64 },
  };
  assert.equal(teacherCacheKey(parts), '1f6f6af5f7c611bb673e7d7f620d697c884eb8bc926b8b9145531f0c6b39e5b4');
  assert.equal(teacherCacheKey({ ...parts, sampleIndex: 2 }), '1987ecfd73856ab9a5a244693c10050a9a693a56352e999056f32db02c482c72');
});

test("a teacher's keys with its shared parts written once are the hash of the whole object's canonical JSON", () => {
  const teachers = [
    { pluginId: 'openai', pluginVersion: '1.2.0', model: 'gpt-4o-mini', requestOptions: {} },
    {
      pluginId: 'anthropic',
      pluginVersion: '2.0.0-beta.1',
      model: 'claude-"quoted"\u00e9',
      // Keys out of order, nested, and an undefined value (left out, as JSON.stringify leaves it out).
      requestOptions: { top_p: 0.9, max_tokens: 256, temperature: undefined, metadata: { z: [1, 'two', null], a: true } },
    },
  ];
  const conversations: TeacherMessage[][] = [
    [{ role: 'user', content: '' }],
    [
      { role: 'system', content: 'You answer in one word.\nNo "quotes".' },
      { role: 'user', content: 'Premise: 日本語 and emoji 🙂 \\ back\u2028slash' },
      { role: 'assistant', content: 'Answer:' },
    ],
  ];
  let compared = 0;
  for (const teacher of teachers) {
    const keys = teacherCacheKeys(teacher);
    for (const messages of conversations) {
      for (const sampleIndex of [undefined, 0, 1, 7]) {
        const expected = keyOfTheObject({ ...teacher, messages, sampleIndex });
        assert.equal(keys(messages, sampleIndex), expected);
        assert.equal(teacherCacheKey({ ...teacher, messages, sampleIndex }), expected);
        compared++;
      }
    }
  }
  assert.equal(compared, 16);
  // The first sample keeps the key of a request without samples; every later one has its own.
  const keys = teacherCacheKeys(teachers[0]!);
  const messages = conversations[1]!;
  assert.equal(keys(messages, 0), keys(messages));
  assert.notEqual(keys(messages, 1), keys(messages));
  // A message's other fields are not part of the key.
  assert.equal(keys([{ ...messages[0]!, name: 'ignored' } as TeacherMessage]), keys([messages[0]!]));
});
