import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costOf, findPrice } from '../../../core/teacher/price-table.js';
import { anthropicAccounting } from '../../../plugins/teachers/anthropic/anthropic-accounting.js';
import { anthropicTokenCounter } from '../../../plugins/teachers/anthropic/anthropic-token-counter.js';
import { openAiAccounting } from '../../../plugins/teachers/openai/openai-accounting.js';
import { openAiEncodingFor, openAiTokenCounter } from '../../../plugins/teachers/openai/openai-token-counter.js';

test('prices: dated model ids take their family price, never a shorter family; pipeline overrides win', () => {
  assert.equal(findPrice(openAiAccounting('gpt-4o-mini-2024-07-18'))?.key, 'openai/gpt-4o-mini');
  assert.equal(findPrice(openAiAccounting('gpt-4o-2024-08-06'))?.key, 'openai/gpt-4o');
  assert.equal(findPrice(anthropicAccounting('claude-3-5-haiku-latest'))?.key, 'anthropic/claude-3-5-haiku');
  assert.equal(findPrice(openAiAccounting('llama3')), null);
  const override = findPrice(openAiAccounting('gpt-4o-mini'), { 'openai/gpt-4o-mini': { prompt: 1, completion: 2 } });
  assert.deepEqual(override, { prompt: 1, completion: 2, key: 'openai/gpt-4o-mini', source: 'pipeline' });
  assert.equal(costOf({ promptTokens: 1_000_000, completionTokens: 500_000 }, override), 2);
  assert.equal(costOf({ promptTokens: 10, completionTokens: 10 }, null), 0);
});

test('token counters: o200k_base for gpt-4o and 4.1, cl100k_base for gpt-3.5 and gpt-4; Anthropic approximated', async () => {
  assert.equal(openAiEncodingFor('gpt-4o-mini'), 'o200k_base');
  assert.equal(openAiEncodingFor('gpt-4.1'), 'o200k_base');
  assert.equal(openAiEncodingFor('gpt-3.5-turbo'), 'cl100k_base');
  assert.equal(openAiEncodingFor('gpt-4-turbo'), 'cl100k_base');
  const openAi = await openAiTokenCounter('gpt-4o-mini');
  assert.equal(openAi.countText('hello world'), 2);
  // 3 framing tokens per message and 3 to prime the reply.
  assert.equal(openAi.countMessages([{ role: 'user', content: 'hello world' }]), 3 + 1 + 2 + 3);
  const anthropic = await anthropicTokenCounter();
  assert.equal(anthropic.exact, false);
  assert.equal(anthropic.countText('x'.repeat(35)), 10);
});
