import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanRationale, countWords } from '../../../core/parsing/rationale-cleaning.js';

test('lead-ins such as "Explanation:" and "Because" are stripped, repeatedly', () => {
  assert.equal(cleanRationale('Explanation: the premise says the man is asleep.'), 'the premise says the man is asleep.');
  assert.equal(cleanRationale('Because the premise says the man is asleep.'), 'the premise says the man is asleep.');
  assert.equal(cleanRationale('Rationale: because a dog cannot be a cat at once.'), 'a dog cannot be a cat at once.');
  assert.equal(
    cleanRationale('REASONING:  Since the store opened in London, it is in Europe.'),
    'the store opened in London, it is in Europe.',
  );
});

test('leading punctuation goes and whitespace collapses', () => {
  assert.equal(cleanRationale('.  ,- The   choir\n\nsings joyous\tsongs at church.'), 'The choir sings joyous songs at church.');
  assert.equal(cleanRationale(') because: the answer must be a place.'), 'the answer must be a place.');
});

test('a "because" inside the text is kept: only lead-ins are stripped', () => {
  assert.equal(cleanRationale('He left because it rained all day.'), 'He left because it rained all day.');
});

test('fewer than 5 words counts as no rationale; exactly 5 is kept', () => {
  assert.equal(cleanRationale('Explanation: it is true.'), null);
  assert.equal(cleanRationale('The man is clearly asleep.'), 'The man is clearly asleep.');
  assert.equal(cleanRationale(''), null);
  assert.equal(cleanRationale(null), null);
  assert.equal(cleanRationale('one two three', 3), 'one two three');
});

test('a rationale wrapped in quotes loses them', () => {
  assert.equal(cleanRationale('"The dog is running in the park."'), 'The dog is running in the park.');
});

test('countWords counts whitespace-separated words', () => {
  assert.equal(countWords('  a  b\nc '), 3);
  assert.equal(countWords('   '), 0);
});

test('markdown bold markers are dropped', () => {
  assert.equal(cleanRationale('**Explanation:** the premise says **nothing** about his age.'), 'the premise says nothing about his age.');
});
