/** A rationale shorter than this many words counts as no rationale (method.md §1). */
export const minimumRationaleWords = 5;

/**
 * Lead-ins a teacher puts before its explanation; they carry no content and would teach the
 * student to start every rationale the same way. Matched case-insensitively at the start only,
 * repeatedly ("Explanation: Because …").
 */
const leadInPattern =
  /^(?:(?:explanation|rationale|reasoning|reasonings|reason|justification)\s*:|because\b|this is because\b|since\b|a:)\s*/i;

/** Leading punctuation and list markers left after a cut (`. `, `, `, `- `, `) `, `* `). */
const leadingPunctuationPattern = /^[\s.,;:!?\-–—)*•]+/;

/** Number of whitespace-separated words. */
export function countWords(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' ? 0 : trimmed.split(/\s+/).length;
}

/**
 * Cleans a rationale: strips lead-ins such as "Explanation:" or "Because", leading punctuation,
 * surrounding quotes and markdown bold markers, and collapses whitespace. Returns null when fewer than `minimumWords` words
 * remain, so an empty or token answer never becomes a training target.
 */
export function cleanRationale(text: string | null | undefined, minimumWords = minimumRationaleWords): string | null {
  if (!text) return null;
  // Chat models bold their answers (`**Final answer: 42**`); the markers carry nothing once the label is cut out.
  let cleaned = text
    .replace(/\*\*|__/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  for (let previous = ''; previous !== cleaned;) {
    previous = cleaned;
    cleaned = cleaned.replace(leadingPunctuationPattern, '').replace(leadInPattern, '').trim();
  }
  if (/^"[^"]*"$/.test(cleaned)) cleaned = cleaned.slice(1, -1).trim();
  return countWords(cleaned) >= minimumWords ? cleaned : null;
}
