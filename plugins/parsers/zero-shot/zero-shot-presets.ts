import { nliLabelMap, nliLabels } from '../../../core/parsing/label-normalisation.js';
import {
  defaultRegexAnswerParserSettings,
  escapeRegExp,
  type RegexAnswerParserSettings,
} from '../../../core/parsing/regex-answer-parser.js';

/** Answer formats with a built-in preset: the paper's zero-shot templates, plus label-given rationalisation. */
export const zeroShotPresetNames = ['nli', 'nli-label-given', 'cqa', 'svamp'] as const;

/** One of {@link zeroShotPresetNames}. */
export type ZeroShotPresetName = (typeof zeroShotPresetNames)[number];

/** An alternation of label words, longest first so `not true` wins over `true` at the same place. */
function alternation(words: readonly string[]): string {
  return [...words]
    .sort((left, right) => right.length - left.length)
    .map((word) => escapeRegExp(word).replace(/ /g, '\\s+'))
    .join('|');
}

const allNliWords = alternation(Object.keys(nliLabelMap));
/** Words safe to pick up anywhere in an answer: not everyday words such as "no" or "correct". */
const distinctiveNliWords = alternation([
  'entailment',
  'entails',
  'entailed',
  'neutral',
  'contradiction',
  'contradicts',
  'contradicted',
  'contradictory',
  'true',
  'false',
  'inconclusive',
  'uncertain',
  'undetermined',
  'cannot be determined',
  "can't be determined",
  'not true',
  'not valid',
  'invalid',
]);

/**
 * Parser settings for answers to the zero-shot templates, from GPT or Claude models:
 * - `nli`: "The claim is false. The premise says …", "Inconclusive. …", "Answer: true".
 * - `nli-label-given`: "The hypothesis is "neutral" towards the premise, because …"; the rationale is
 *   what follows "because".
 * - `cqa`: "c) wooded area. Beavers …", "The correct answer is (c) wooded area because …", or a
 *   choice text alone.
 * - `svamp`: step-by-step working ending in "The final answer is 42"; the label is the number.
 */
export function zeroShotPreset(name: ZeroShotPresetName): RegexAnswerParserSettings {
  switch (name) {
    case 'nli':
      return {
        ...defaultRegexAnswerParserSettings,
        labelPatterns: [
          `(?:the\\s+)?(?:final\\s+)?(?:answer|claim|hypothesis|statement)\\s+(?:is|would\\s+be)\\s*:?\\s*["'*“]*(?<label>${allNliWords})\\b`,
          `(?:the\\s+)?answer\\s*:\\s*["'*“]*(?<label>${allNliWords})\\b`,
          `^[\\s"'*“#]*(?<label>${allNliWords})\\b`,
          `\\b(?<label>${distinctiveNliWords})\\b`,
        ],
        labelMap: nliLabelMap,
        labels: nliLabels,
      };
    case 'nli-label-given':
      return {
        ...defaultRegexAnswerParserSettings,
        labelPatterns: [`hypothesis\\s+is\\s*["'“]*(?<label>${allNliWords})\\b`],
        rationalePattern: `\\bbecause\\b[\\s,:.]*(?<rationale>.*)`,
        labelMap: nliLabelMap,
        labels: nliLabels,
      };
    case 'cqa':
      return {
        ...defaultRegexAnswerParserSettings,
        labelKind: 'choice',
        labelPatterns: [
          `(?:the\\s+)?(?:(?:correct|best|right|most\\s+likely)\\s+)?(?:answer|option|choice)\\s*(?:is|would\\s+be|:)\\s*:?\\s*[*"]*\\(?(?<label>[a-e])\\)`,
          `^[\\s*"#]*(?:option\\s+)?\\(?(?<label>[a-e])\\)`,
          `(?:the\\s+)?(?:(?:correct|best|right)\\s+)?(?:answer|option|choice)\\s*(?:is|would\\s+be|:)\\s*:?\\s*[*"]*(?<label>[a-e])[.:*"]?(?:\\s|$)(?!\\w+\\s+\\w)`,
          `(?:the\\s+)?(?:(?:correct|best|right)\\s+)?answer\\s*(?:is|would\\s+be|:)\\s*[*"]*(?<label>[^".\\n*]+)`,
        ],
      };
    case 'svamp':
      return {
        ...defaultRegexAnswerParserSettings,
        labelKind: 'number',
        labelPatterns: [
          `final\\s+answer\\s*(?:is|:|=)?[\\s:*]*\\$?\\s*(?<label>-?[\\d,]*\\.?\\d+)`,
          `answer\\s*(?:is|:|=)[\\s:*]*\\$?\\s*(?<label>-?[\\d,]*\\.?\\d+)`,
          `(?<label>-?\\d[\\d,]*(?:\\.\\d+)?)(?!.*\\d)`,
        ],
      };
  }
}
