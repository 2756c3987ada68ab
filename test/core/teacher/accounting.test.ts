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

test('the OpenAI counter bounds its count by the UTF-8 bytes: never below the exact count, whatever the script', async () => {
  for (const model of ['gpt-4o-mini', 'gpt-4-turbo']) {
    const counter = await openAiTokenCounter(model);
    const bound = (messages: Parameters<typeof counter.countMessages>[0]) => counter.boundMessages!(messages);
    for (const content of [
      'hello world',
      '',
      '   spaced    out   ',
      'Ünïcödé ñ façade',
      '数据蒸馏的学生模型',
      'emoji 🧪🧬🔬 and \n newlines\t',
      'x'.repeat(500),
    ]) {
      const messages = [
        { role: 'system' as const, content: 'Answer with one word.' },
        { role: 'user' as const, content },
      ];
      assert.ok(bound(messages) >= counter.countMessages(messages), `${model}: ${JSON.stringify(content)}`);
    }
    // Close to the count for plain English, so that a limit near binding is rarely tokenized for nothing.
    const english = [{ role: 'user' as const, content: 'The quick brown fox jumps over the lazy dog.' }];
    assert.ok(bound(english) <= 6 * counter.countMessages(english));
  }
});

test('the OpenAI counter counts the text of a special token as ordinary text, never throws on it', async () => {
  for (const model of ['gpt-4o-mini', 'gpt-4']) {
    const counter = await openAiTokenCounter(model);
    const text = 'a premise <|endoftext|> and <|fim_prefix|> in the data';
    const count = counter.countText(text);
    assert.ok(count > 5, `${model}: ${count} tokens`);
    assert.ok(count <= Buffer.byteLength(text, 'utf8'));
    assert.ok(counter.countMessages([{ role: 'user', content: text }]) > count);
  }
});
