/** The NLI label set, in the order of the datasets' label ids 0, 1, 2. */
export const nliLabels = ['entailment', 'neutral', 'contradiction'] as const;

/**
 * Words teachers answer NLI prompts with, mapped to the label set (method.md §1). NLI prompts often
 * ask "true, false, or inconclusive?", so those are the common ones.
 */
export const nliLabelMap: Readonly<Record<string, string>> = {
  entailment: 'entailment',
  entailed: 'entailment',
  entails: 'entailment',
  entail: 'entailment',
  true: 'entailment',
  valid: 'entailment',
  yes: 'entailment',
  correct: 'entailment',
  supported: 'entailment',
  neutral: 'neutral',
  inconclusive: 'neutral',
  uncertain: 'neutral',
  undetermined: 'neutral',
  unknown: 'neutral',
  'cannot be determined': 'neutral',
  "can't be determined": 'neutral',
  'can not be determined': 'neutral',
  'not enough information': 'neutral',
  'it is not possible to tell': 'neutral',
  'not possible to tell': 'neutral',
  maybe: 'neutral',
  neither: 'neutral',
  contradiction: 'contradiction',
  contradicts: 'contradiction',
  contradicted: 'contradiction',
  contradict: 'contradiction',
  contradictory: 'contradiction',
  false: 'contradiction',
  'not valid': 'contradiction',
  invalid: 'contradiction',
  'not true': 'contradiction',
  incorrect: 'contradiction',
  no: 'contradiction',
};

/** Lower case, single spaces, no surrounding quotes, brackets or final punctuation. */
export function labelKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^["'“‘([*]+|["'”’)\]*.,;:!?]+$/g, '')
    .trim();
}

/**
 * Maps a label word through `map` (keys compared by {@link labelKey}); a word the map does not
 * know is returned as its key, for the caller to check against the label set.
 */
export function normaliseLabelWord(text: string, map: Readonly<Record<string, string>>): string {
  const key = labelKey(text);
  for (const [word, label] of Object.entries(map)) if (labelKey(word) === key) return label;
  return key;
}

/**
 * The choice a multiple-choice marker points at: a letter (`c`, `(c)`, `c)`) or a 1-based number
 * (`3`) indexes `choices`. Returns null when the marker is neither or out of range.
 */
export function choiceForMarker(marker: string, choices: readonly string[]): string | null {
  const key = marker
    .trim()
    .replace(/^[([]|[)\].:]$/g, '')
    .trim()
    .toLowerCase();
  let index: number | null = null;
  if (/^[a-z]$/.test(key)) index = key.charCodeAt(0) - 'a'.charCodeAt(0);
  else if (/^\d+$/.test(key)) index = Number(key) - 1;
  return index !== null && index >= 0 && index < choices.length ? choices[index]! : null;
}

/** The choice equal to `text` ignoring case, spacing and final punctuation, or null. */
export function matchChoiceText(text: string, choices: readonly string[]): string | null {
  const key = labelKey(text);
  return choices.find((choice) => labelKey(choice) === key) ?? null;
}
