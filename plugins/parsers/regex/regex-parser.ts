import type { Parser } from '../../../core/plugins/kinds/parser.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { Problem } from '../../../core/errors/problem.js';
import { UserError } from '../../../core/errors/user-error.js';
import { nliLabelMap, nliLabels } from '../../../core/parsing/label-normalisation.js';
import { minimumRationaleWords } from '../../../core/parsing/rationale-cleaning.js';
import { compileAnswerPattern, RegexAnswerParser, type LabelKind } from '../../../core/parsing/regex-answer-parser.js';

/** Options of {@link regexParser}. */
export interface RegexParserOptions {
  /** Pattern(s) finding the label: group `label`, else group 1, else the whole match; tried in order. */
  readonly label_pattern: string | readonly string[];
  /** Pattern whose group `rationale` (or 1) is the rationale; default: the answer without the label match. */
  readonly rationale_pattern?: string;
  /** `nli` (entailment/neutral/contradiction with the built-in word map) or a list of labels. */
  readonly labels?: 'nli' | readonly string[];
  /** Extra word → label normalisations, e.g. `{supports: entailment}`. */
  readonly label_map?: Readonly<Record<string, string>>;
  /** `auto` (choices when the example has them, else words), `word`, `choice` or `number`. */
  readonly label_kind?: LabelKind;
  /** Fields holding the choices in letter order; default: the example's `choices` field. */
  readonly choice_fields?: readonly string[];
  /** Text that ends the answer before parsing, e.g. `Q:`. */
  readonly cut_at?: string;
  /** Fewer words than this count as no rationale (default 5). */
  readonly min_rationale_words?: number;
}

/**
 * A label found by regular expression (case-insensitive, dot matches newline), the rest of the
 * answer as the rationale, label words normalised, choice letters and numbers mapped to choice text.
 */
export const regexParser: PluginDescriptor<RegexParserOptions, Parser> = {
  id: 'regex',
  kind: 'parser',
  version: '1.0.0',
  summary: 'Label by regular expression, rationale the rest; label normalisation and choice mapping.',
  optionsSchema: {
    type: 'object',
    description: [
      'Patterns are JavaScript regular expressions (`new RegExp(pattern, "is")`, ECMAScript syntax as in Node): written',
      'without slashes or flags, always case-insensitive (`i`) and with `.` matching line breaks too (`s`). Named',
      'groups are `(?<label>…)`; `\\b`, `\\d`, lookahead `(?=…)` and lookbehind `(?<=…)` work; Python-only syntax such',
      "as `(?P<label>…)` or inline flags `(?i)` does not. In YAML, single-quote a pattern (`'answer is (\\w+)'`) so",
      'its backslashes stay as written. Patterns are tried in order, each at its first match; the found text (the',
      '`label` group, else group 1, else the whole match) must read as a label, else the next pattern is tried.',
      'Without `rationale_pattern` the rationale is the answer with the label match removed.',
    ].join('\n'),
    additionalProperties: false,
    required: ['label_pattern'],
    properties: {
      label_pattern: {
        description: 'Regular expression(s) for the label (group "label" or 1), tried in order.',
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
        ],
      },
      rationale_pattern: { type: 'string', minLength: 1, description: 'Regular expression for the rationale (group "rationale" or 1).' },
      labels: {
        description: 'nli, or the list of allowed labels.',
        oneOf: [{ const: 'nli' }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
      },
      label_map: { type: 'object', additionalProperties: { type: 'string' }, description: 'Word → label normalisations.' },
      label_kind: { enum: ['auto', 'word', 'choice', 'number'], default: 'auto', description: 'How a found label is read.' },
      choice_fields: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 2,
        description: 'Fields holding the choices in letter order.',
      },
      cut_at: { type: 'string', minLength: 1, description: 'Text where the answer ends (e.g. a made-up next question).' },
      min_rationale_words: {
        type: 'integer',
        minimum: 0,
        default: minimumRationaleWords,
        description: 'Shorter rationales count as none.',
      },
    },
  },
  exampleOptions: { label_pattern: '\\b(true|false|inconclusive)\\b', labels: 'nli' },
  create(options) {
    const labelPatterns = typeof options.label_pattern === 'string' ? [options.label_pattern] : [...options.label_pattern];
    const problems: Problem[] = [];
    for (const [option, source] of [
      ...labelPatterns.map((pattern) => ['label_pattern', pattern] as const),
      ...(options.rationale_pattern === undefined ? [] : [['rationale_pattern', options.rationale_pattern] as const]),
    ]) {
      try {
        compileAnswerPattern(source);
      } catch (error) {
        problems.push({
          message: `${option} is not a valid regular expression: ${(error as Error).message}`,
          plugin: 'parser/regex',
          fix: 'write a JavaScript regular expression without slashes or flags, e.g. answer is (\\w+)',
        });
      }
    }
    if (problems.length > 0) throw new UserError(problems);
    const nli = options.labels === 'nli';
    return new RegexAnswerParser({
      labelPatterns,
      rationalePattern: options.rationale_pattern ?? null,
      labelKind: options.label_kind ?? 'auto',
      labelMap: { ...(nli ? nliLabelMap : {}), ...(options.label_map ?? {}) },
      labels: nli ? nliLabels : (options.labels ?? null),
      choiceFields: options.choice_fields ?? null,
      cutAt: options.cut_at ?? null,
      minimumRationaleWords: options.min_rationale_words ?? minimumRationaleWords,
    });
  },
};
