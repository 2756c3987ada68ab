import type { Dataset, DatasetExample } from '../../core/plugins/kinds/dataset.js';
import type { Parser } from '../../core/plugins/kinds/parser.js';
import type { Prompt } from '../../core/plugins/kinds/prompt.js';
import { asyncValues } from './async-values.js';

/** An example for {@link arrayDataset}. */
export interface FixtureExample {
  readonly id: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly gold: string | null;
}

/** A dataset over an array, one split (`train` unless said), for teach-stage tests. */
export function arrayDataset(examples: readonly FixtureExample[], split = 'train'): Dataset {
  const fields = [...new Set(examples.flatMap((example) => Object.keys(example.fields)))];
  return {
    splits: [split],
    fields,
    labels: null,
    read(requested: string): AsyncIterable<DatasetExample> {
      const asked = requested === split ? examples : [];
      return asyncValues(asked.map((example) => ({ id: example.id, split, fields: example.fields, goldLabel: example.gold })));
    },
    studentInput: (example) => Object.values(example.fields).join(' '),
    sourceFiles: () => [],
  };
}

/** A `{field}` template prompt with one user message. */
export function templatePrompt(template: string): Prompt {
  const placeholders = [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!))];
  return {
    placeholders,
    templateHash: template,
    shots: 0,
    render: (example) => [{ role: 'user', content: template.replace(/\{(\w+)\}/g, (_, name: string) => String(example.fields[name])) }],
  };
}

/**
 * Parses `Answer: <label>. Because <rationale>`: the label word after `answer:` and the rationale
 * after `because` (fewer than 5 words counts as none). Anything else is unparsed with a reason.
 */
export function answerParser(onParse?: (completion: string, example: DatasetExample) => void): Parser {
  return {
    parse(completion, example) {
      onParse?.(completion, example);
      const label = /answer:\s*(\w+)/is.exec(completion)?.[1]?.toLowerCase();
      const rationaleText = /because\s+(.*)$/is.exec(completion)?.[1]?.trim() ?? null;
      const rationale = rationaleText && rationaleText.split(/\s+/).length >= 5 ? rationaleText : null;
      if (!label)
        return { status: 'unparsed', label: null, rationale, reason: completion.trim() === '' ? 'empty answer' : 'no label word found' };
      return { status: 'parsed', label, rationale };
    },
  };
}

/** `count` examples `e0…` with a `question` field and alternating gold labels `yes`/`no`. */
export function numberedExamples(count: number): FixtureExample[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `e${index}`,
    fields: { question: `question ${index}` },
    gold: index % 2 === 0 ? 'yes' : 'no',
  }));
}
