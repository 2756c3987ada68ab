import type { DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import type { ParsedAnswer } from '../../../core/plugins/kinds/parser.js';
import { choiceForMarker, matchChoiceText, nliLabelMap, nliLabels, normaliseLabelWord } from '../../../core/parsing/label-normalisation.js';
import { cleanRationale } from '../../../core/parsing/rationale-cleaning.js';
import { exampleChoices } from '../../../core/parsing/regex-answer-parser.js';

/**
 * The completion formats of PaLM-540B prompted few-shot in Distilling Step-by-Step, with the rules
 * of `../shared/data/README.md` (the original code's `_parse_llm_output`). PaLM runs on into made-up
 * exemplars, so each format first cuts the completion where the next exemplar starts.
 */
export type PalmFormat = (completion: string, example: DatasetExample, settings: PalmFormatSettings) => ParsedAnswer;

/** Settings shared by the formats. */
export interface PalmFormatSettings {
  /** Fewer words than this count as no rationale. */
  readonly minimumWords: number;
  /**
   * cqa: `choice` gives the label in the matching choice's own spelling (PaLM writes "Michigan" for
   * the choice "michigan"), so teacher labels stay in the label space; `as-written` keeps PaLM's
   * text, as the original code and the README's accuracy figures do.
   */
  readonly choiceSpelling: 'choice' | 'as-written';
}

function unparsed(reason: string, rationale: string | null): ParsedAnswer {
  return { status: 'unparsed', label: null, rationale, reason };
}

/** Text before the first `marker`, or all of it. */
function before(text: string, marker: string): string {
  const index = text.indexOf(marker);
  return index < 0 ? text : text.slice(0, index);
}

/**
 * The answer's arithmetic expression: from the first `(` as far as the text stays arithmetic, up to
 * the last point where parentheses balance. `(10 - (3 + 6)).` gives `(10 - (3 + 6))`, `(8 / 4) and
 * (6 / 4)` gives `(8 / 4)`, and `(30 * 71) + (30 * 24)` stays whole, where the original code's
 * greedy `\(.*\)` would run on to the last `)` of the line.
 */
export function answerExpression(text: string): string | null {
  const start = text.indexOf('(');
  if (start < 0) return null;
  let depth = 0;
  let end = -1;
  for (let position = start; position < text.length; position++) {
    const character = text[position]!;
    if (character === '(') depth++;
    else if (character === ')') {
      if (--depth < 0) break;
      if (depth === 0) end = position;
    } else if (!/[\d\s.+\-*/]/.test(character)) break;
  }
  return end < 0 ? null : text.slice(start, end + 1);
}

/** An NLI label word normalised into the label set, or null. */
function nliLabel(word: string): string | null {
  const label = normaliseLabelWord(word, nliLabelMap);
  return (nliLabels as readonly string[]).includes(label) ? label : null;
}

/** cqa: cut at `Q:`; rationale before `So the answer is`; label = the choice text after the `(x)` marker. */
const cqa: PalmFormat = (completion, example, { minimumWords, choiceSpelling }) => {
  const text = before(completion, 'Q:').trimEnd();
  const split = text.indexOf('So the answer is');
  if (split < 0) return unparsed('no "So the answer is" in the completion', cleanRationale(text, minimumWords));
  const rationale = cleanRationale(text.slice(0, split), minimumWords);
  const answer = text.slice(split + 'So the answer is'.length);
  const choices = exampleChoices(example, null) ?? [];
  const marker = /\(([a-z])\)/i.exec(answer);
  if (!marker) {
    const byText = matchChoiceText(answer, choices);
    return byText
      ? { status: 'parsed', label: byText, rationale }
      : unparsed(`no (x) choice marker after "So the answer is": "${answer.trim()}"`, rationale);
  }
  // The text up to the next marker, as the original `re.split(r'\(.\)', label)[1]` takes it.
  const after = answer
    .slice(marker.index + marker[0].length)
    .split(/\([a-z]\)/i)[0]!
    .trim()
    .replace(/\.$/, '')
    .trim();
  if (after !== '')
    return { status: 'parsed', label: (choiceSpelling === 'choice' ? matchChoiceText(after, choices) : null) ?? after, rationale };
  const byLetter = choiceForMarker(marker[1]!, choices);
  return byLetter ? { status: 'parsed', label: byLetter, rationale } : unparsed(`choice marker (${marker[1]}) has no text`, rationale);
};

/** svamp: cut at `Q:`; rationale before `The answer is`; label = the parenthesised expression after it. */
const svamp: PalmFormat = (completion, _example, { minimumWords }) => {
  const text = before(completion, 'Q:').trimEnd();
  const split = text.indexOf('The answer is');
  if (split < 0) return unparsed('no "The answer is" in the completion', cleanRationale(text, minimumWords));
  const rationale = cleanRationale(text.slice(0, split), minimumWords);
  const answer = text.slice(split + 'The answer is'.length);
  const expression = answerExpression(answer);
  if (expression !== null) return { status: 'parsed', label: expression, rationale };
  return unparsed(`no arithmetic expression in parentheses after "The answer is": "${answer.trim().slice(0, 60)}"`, rationale);
};

/** esnli: rationale before `Answer:`; label = the word after `Answer: ` (its line, up to `Premise`). */
const esnli: PalmFormat = (completion, _example, { minimumWords }) => {
  const split = completion.indexOf('Answer:');
  if (split < 0) return unparsed('no "Answer:" in the completion', cleanRationale(completion, minimumWords));
  const rationale = cleanRationale(completion.slice(0, split), minimumWords);
  // The label's line only: a completion cut off mid-word ("entailment\n\nPre") still has its label.
  const word = before(before(completion.slice(split + 'Answer:'.length), 'Premise').trimStart(), '\n').trim();
  const label = nliLabel(word);
  return label ? { status: 'parsed', label, rationale } : unparsed(`"${word.slice(0, 60)}" after "Answer:" is not an NLI label`, rationale);
};

/** anli1: cut at `Premise:`; rationale before `So the answer is`; label = the following word without its period. */
const anli1: PalmFormat = (completion, _example, { minimumWords }) => {
  const text = before(completion, 'Premise:').trimEnd();
  const split = text.indexOf('So the answer is');
  if (split < 0) return unparsed('no "So the answer is" in the completion', cleanRationale(text, minimumWords));
  const rationale = cleanRationale(text.slice(0, split), minimumWords);
  const word = text.slice(split + 'So the answer is'.length).trim();
  const label = nliLabel(word);
  return label
    ? { status: 'parsed', label, rationale }
    : unparsed(`"${word.slice(0, 60)}" after "So the answer is" is not an NLI label`, rationale);
};

/** The format of each dataset. */
export const palmFormats = { anli1, cqa, esnli, svamp } as const satisfies Record<string, PalmFormat>;
