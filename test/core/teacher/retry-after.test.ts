import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration, retryAfterMilliseconds } from '../../../core/teacher/retry-after.js';

const now = Date.parse('2026-01-01T00:00:00Z');

test('durations in the OpenAI reset format', () => {
  assert.equal(parseDuration('6m0s'), 360_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('20ms'), 20);
  assert.equal(parseDuration('1h2m3s'), 3_723_000);
  assert.equal(parseDuration('soon'), null);
});

test('retry-after as seconds or as an HTTP date; retry-after-ms first', () => {
  assert.equal(retryAfterMilliseconds({ 'Retry-After': '3' }, now), 3000);
  assert.equal(retryAfterMilliseconds({ 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' }, now), 5000);
  assert.equal(retryAfterMilliseconds({ 'retry-after': '3', 'retry-after-ms': '40' }, now), 40);
  assert.equal(retryAfterMilliseconds({}, now), null);
});

test('reset headers count only for a rate-limited answer, and only the exhausted limit', () => {
  const openAi = {
    'x-ratelimit-remaining-requests': '10',
    'x-ratelimit-reset-requests': '1s',
    'x-ratelimit-remaining-tokens': '0',
    'x-ratelimit-reset-tokens': '6m0s',
  };
  assert.equal(retryAfterMilliseconds(openAi, now), 360_000);
  assert.equal(retryAfterMilliseconds(openAi, now, false), null);
  const anthropic = { 'anthropic-ratelimit-tokens-remaining': '0', 'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:07Z' };
  assert.equal(retryAfterMilliseconds(anthropic, now), 7000);
  // Without remaining headers, the latest reset applies.
  assert.equal(retryAfterMilliseconds({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '5s' }, now), 5000);
});
