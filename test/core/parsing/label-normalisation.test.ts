import assert from 'node:assert/strict';
import { test } from 'node:test';
import { choiceForMarker, labelKey, matchChoiceText, nliLabelMap, normaliseLabelWord } from '../../../core/parsing/label-normalisation.js';

test('NLI answer words map to the label set (method.md §1)', () => {
  const cases: [string, string][] = [
    ['True', 'entailment'],
    ['valid', 'entailment'],
    ['entails', 'entailment'],
    ['Yes.', 'entailment'],
    ['FALSE', 'contradiction'],
    ['not valid', 'contradiction'],
    ['Contradicts', 'contradiction'],
    ['no', 'contradiction'],
    ['Inconclusive.', 'neutral'],
    ['uncertain', 'neutral'],
    ['cannot be determined', 'neutral'],
    ['Cannot  be\ndetermined', 'neutral'],
    ['"maybe"', 'neutral'],
    ['neither', 'neutral'],
  ];
  for (const [word, label] of cases) assert.equal(normaliseLabelWord(word, nliLabelMap), label, word);
});

test('a word the map does not know comes back as its key, for the caller to reject', () => {
  assert.equal(normaliseLabelWord(' Perhaps! ', nliLabelMap), 'perhaps');
  assert.equal(labelKey('**Entailment**.'), 'entailment');
});

test('choice letters and 1-based numbers map to the choice text', () => {
  const choices = ['british columbia', 'body of water', 'wooded area', 'pay debts', 'zoo'];
  assert.equal(choiceForMarker('c', choices), 'wooded area');
  assert.equal(choiceForMarker('(C)', choices), 'wooded area');
  assert.equal(choiceForMarker('e)', choices), 'zoo');
  assert.equal(choiceForMarker('1', choices), 'british columbia');
  assert.equal(choiceForMarker('5.', choices), 'zoo');
  assert.equal(choiceForMarker('f', choices), null);
  assert.equal(choiceForMarker('0', choices), null);
  assert.equal(choiceForMarker('wooded', choices), null);
});

test('a choice text matches ignoring case, spacing and final punctuation', () => {
  const choices = ['michigan', 'new york city'];
  assert.equal(matchChoiceText('Michigan.', choices), 'michigan');
  assert.equal(matchChoiceText(' New  York City ', choices), 'new york city');
  assert.equal(matchChoiceText('york', choices), null);
});
