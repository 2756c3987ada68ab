import type { DatasetExample } from '../plugins/kinds/dataset.js';
import type { ParsedAnswer } from '../plugins/kinds/parser.js';
import { choiceForMarker, labelKey, matchChoiceText, normaliseLabelWord } from './label-normalisation.js';
import { cleanRationale, minimumRationaleWords } from './rationale-cleaning.js';

/** How a found label word is turned into a label. */
export type LabelKind =
  /** Normalised through the label map and checked against the label set, if any. */
  | 'word'
  /** A multiple-choice letter, number or choice text, mapped to the example's choice text. */
  | 'choice'
  /** A number (`1,250`, `$3.50`), written plainly (`1250`, `3.5`). */
  | 'number'
  /** `choice` when the example has choices, else `word`. */
  | 'auto';

/** Settings of a {@link RegexAnswerParser}. */
export interface RegexAnswerParserSettings {
  /**
   * Patterns tried in order; the first whose capture makes a valid label wins. The label is the
   * named group `label`, else group 1, else the whole match. Compiled case-insensitive with dot
   * matching newlines.
   */
  readonly labelPatterns: readonly string[];
  /** Pattern whose group `rationale` (or 1) is the rationale; null: the completion without the label match. */
  readonly rationalePattern: string | null;
  readonly labelKind: LabelKind;
  /** Word → label normalisation (keys compared ignoring case, spacing and final punctuation). */
  readonly labelMap: Readonly<Record<string, string>>;
  /** Allowed labels after normalisation, or null for any. */
  readonly labels: readonly string[] | null;
  /** Fields holding the choices in letter order; null: the example's `choices` array field. */
  readonly choiceFields: readonly string[] | null;
  /** Text that ends the answer before parsing (e.g. a made-up next question); null: none. */
  readonly cutAt: string | null;
  readonly minimumRationaleWords: number;
}

/** Defaults for the optional settings. */
export const defaultRegexAnswerParserSettings = {
  rationalePattern: null,
  labelKind: 'word',
  labelMap: {},
  labels: null,
  choiceFields: null,
  cutAt: null,
  minimumRationaleWords,
} as const satisfies Partial<RegexAnswerParserSettings>;

/** Compiles a user pattern the way every parser does: case-insensitive, dot matches newline. */
export function compileAnswerPattern(source: string): RegExp {
  return new RegExp(source, 'is');
}

/** `1,250` → `1250`, `$3.50` → `3.5`; null when the text is not a number. */
export function normaliseNumber(text: string): string | null {
  const cleaned = text.replace(/[$,\s]/g, '').replace(/\.$/, '');
  if (!/^-?(\d+\.?\d*|\.\d+)$/.test(cleaned)) return null;
  return String(Number(cleaned));
}

/** The choice texts of an example: from the named fields, else its `choices` array. */
export function exampleChoices(example: DatasetExample, choiceFields: readonly string[] | null): string[] | null {
  if (choiceFields) {
    const values = choiceFields.map((field) => example.fields[field]);
    return values.every((value) => typeof value === 'string') ? values : null;
  }
  const choices = example.fields.choices;
  return Array.isArray(choices) && choices.every((choice) => typeof choice === 'string') ? choices : null;
}

/**
 * Extracts a label with regular expressions and takes the rest of the answer as the rationale
 * (method.md §1). Generic: parsers build it from the patterns their users write, or from presets
 * of their own for the answers to particular templates.
 */
export class RegexAnswerParser {
  private readonly labelPatterns: RegExp[];
  private readonly rationalePattern: RegExp | null;

  constructor(private readonly settings: RegexAnswerParserSettings) {
    this.labelPatterns = settings.labelPatterns.map(compileAnswerPattern);
    this.rationalePattern = settings.rationalePattern === null ? null : compileAnswerPattern(settings.rationalePattern);
  }

  parse(completion: string, example: DatasetExample): ParsedAnswer {
    const cutIndex = this.settings.cutAt === null ? -1 : completion.indexOf(this.settings.cutAt);
    const text = cutIndex > 0 ? completion.slice(0, cutIndex) : completion;
    if (text.trim() === '') return { status: 'unparsed', label: null, rationale: null, reason: 'empty completion' };

    const kind = this.settings.labelKind;
    const choices = kind === 'choice' || kind === 'auto' ? exampleChoices(example, this.settings.choiceFields) : null;
    if (this.settings.labelKind === 'choice' && choices === null) {
      return {
        status: 'unparsed',
        label: null,
        rationale: this.rationale(text, null),
        reason: 'the example has no choices to map the answer to',
      };
    }

    let rejected: string | null = null;
    for (const pattern of this.labelPatterns) {
      const match = pattern.exec(text);
      if (!match) continue;
      const found = match.groups?.label ?? match[1] ?? match[0];
      const label = this.toLabel(found, choices);
      if (label === null) {
        rejected ??= found.trim();
        continue;
      }
      let end = match.index + match[0].length;
      // "c) wooded area. Because …": the choice text after a letter is part of the label, not the rationale.
      if (choices && text.slice(end).trimStart().toLowerCase().startsWith(label.toLowerCase())) {
        end = text.toLowerCase().indexOf(label.toLowerCase(), end) + label.length;
      }
      return { status: 'parsed', label, rationale: this.rationale(text, { start: match.index, end }) };
    }

    if (choices) {
      // No marker: accept the answer when exactly one choice text appears in it.
      const present = [...new Set(choices)].filter((choice) => new RegExp(`\\b${escapeRegExp(choice)}\\b`, 'i').test(text));
      if (present.length === 1) return { status: 'parsed', label: present[0]!, rationale: this.rationale(text, null) };
    }
    const reason =
      rejected !== null
        ? `"${rejected}" is not a valid label${this.settings.labels ? ` (expected one of ${this.settings.labels.join(', ')})` : ''}`
        : 'no label found: none of the label patterns matched';
    return { status: 'unparsed', label: null, rationale: this.rationale(text, null), reason };
  }

  private toLabel(found: string, choices: readonly string[] | null): string | null {
    const kind = this.settings.labelKind === 'auto' ? (choices ? 'choice' : 'word') : this.settings.labelKind;
    switch (kind) {
      case 'choice':
        return choiceForMarker(found, choices!) ?? matchChoiceText(found, choices!);
      case 'number':
        return normaliseNumber(found);
      case 'word': {
        const label = normaliseLabelWord(found, this.settings.labelMap);
        if (label === '') return null;
        if (this.settings.labels && !this.settings.labels.some((allowed) => labelKey(allowed) === label)) return null;
        return this.settings.labels?.find((allowed) => labelKey(allowed) === label) ?? label;
      }
    }
  }

  private rationale(text: string, labelSpan: { start: number; end: number } | null): string | null {
    if (this.rationalePattern) {
      const match = this.rationalePattern.exec(text);
      if (!match) return null;
      return cleanRationale(match.groups?.rationale ?? match[1] ?? match[0], this.settings.minimumRationaleWords);
    }
    const rest = labelSpan ? `${text.slice(0, labelSpan.start)} ${text.slice(labelSpan.end)}` : text;
    return cleanRationale(rest, this.settings.minimumRationaleWords);
  }
}

/** Escapes text for use inside a regular expression. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
