import { escapeRegExp } from '../parsing/regex-answer-parser.js';
import type { TokenLogprob } from '../plugins/kinds/teacher.js';

/**
 * Where a label first occurs in an answer: case-insensitive, and not inside a longer word (so that
 * `no` is not found in `not` or `know`). Null when it does not occur, e.g. when the parser mapped the
 * answer's word to another one (`false` read as `contradiction`).
 */
function firstOccurrence(text: string, label: string): { readonly start: number; readonly end: number } | null {
  if (label.trim() === '') return null;
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(label)}(?![\\p{L}\\p{N}_])`, 'iu');
  const match = pattern.exec(text);
  return match ? { start: match.index, end: match.index + match[0].length } : null;
}

/**
 * The probability the teacher gave its label, from the answer's token log-probabilities: e raised to
 * the sum of the log-probabilities of the tokens that cover the label's first occurrence in the
 * answer (a token partly inside counts whole, so `" yes"` counts for `yes`).
 *
 * The first occurrence, because a chat model states its answer before it explains it (the zero-shot
 * parsers read the label there too): that is where the model chose the label; a later mention
 * repeats a choice already made, at a probability near 1 that would overstate its confidence.
 *
 * Null when the label is not in the answer as a word, or when the tokens do not spell the answer
 * exactly (a token cut inside a multi-byte character, a proxy that rewrote the text): offsets into
 * the text could then point at the wrong tokens, and no confidence is better than a wrong one.
 */
export function labelProbability(text: string, label: string, tokens: readonly TokenLogprob[]): number | null {
  if (tokens.length === 0 || tokens.map((token) => token.token).join('') !== text) return null;
  const occurrence = firstOccurrence(text, label);
  if (!occurrence) return null;
  let offset = 0;
  let logprob = 0;
  for (const token of tokens) {
    const start = offset;
    offset += token.token.length;
    if (start >= occurrence.end) break;
    if (offset > occurrence.start) logprob += token.logprob;
  }
  return Math.exp(logprob);
}
