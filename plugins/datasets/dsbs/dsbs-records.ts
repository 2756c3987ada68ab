import type { DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import { UserError } from '../../../core/errors/user-error.js';
import { readJsonLines } from '../../../core/parsing/json-lines.js';
import { nliLabels } from '../../../core/parsing/label-normalisation.js';
import { assertDsbsSplit, dsbsGoldFile, type DsbsDatasetName } from './dsbs-layout.js';

/** What every record reader gets: the parsed line, the split, its 0-based index and `file:line`. */
interface GoldRecord {
  readonly record: Readonly<Record<string, unknown>>;
  readonly split: string;
  readonly index: number;
  readonly where: string;
}

const unmodifiedFileFix = 'check that the file is an unmodified dsbs gold file';

function stringField({ record, where }: GoldRecord, key: string): string {
  const value = record[key];
  if (typeof value !== 'string') {
    throw new UserError({ message: `${where}: field "${key}" should be a string, got ${JSON.stringify(value)}`, fix: unmodifiedFileFix });
  }
  return value;
}

/** The NLI label of a record: its label id 0, 1 or 2 as the label word. */
function nliGold({ record, where }: GoldRecord): string {
  const label = record.label;
  if (typeof label !== 'number' || nliLabels[label] === undefined) {
    throw new UserError({ message: `${where}: label should be 0, 1 or 2, got ${JSON.stringify(label)}`, fix: unmodifiedFileFix });
  }
  return nliLabels[label];
}

function cqaExample(gold: GoldRecord): DatasetExample {
  const choices = gold.record.choices;
  if (!Array.isArray(choices) || choices.length !== 5 || !choices.every((choice) => typeof choice === 'string')) {
    throw new UserError({ message: `${gold.where}: "choices" should be five strings`, fix: unmodifiedFileFix });
  }
  const [a, b, c, d, e] = choices;
  const id = stringField(gold, 'id');
  const question = stringField(gold, 'question');
  const abstractive_explanation = gold.record.abstractive_explanation ?? '';
  const extractive_explanation = gold.record.extractive_explanation ?? '';
  return {
    id: `cqa/${gold.split}/${id}`,
    split: gold.split,
    fields: { id, question, choices, a, b, c, d, e, abstractive_explanation, extractive_explanation },
    goldLabel: stringField(gold, 'answer'),
  };
}

function svampExample(gold: GoldRecord): DatasetExample {
  const question = stringField(gold, 'input');
  const lastBreak = question.lastIndexOf('\n');
  return {
    id: `svamp/${gold.split}/${gold.index}`,
    split: gold.split,
    fields: { question, body: lastBreak < 0 ? '' : question.slice(0, lastBreak), final_question: question.slice(lastBreak + 1) },
    goldLabel: stringField(gold, 'label'),
  };
}

function esnliExample(gold: GoldRecord): DatasetExample {
  const { record } = gold;
  return {
    id: `esnli/${gold.split}/${gold.index}`,
    split: gold.split,
    fields: {
      premise: stringField(gold, 'premise'),
      hypothesis: stringField(gold, 'hypothesis'),
      explanation_1: record.explanation_1 ?? '',
      explanation_2: record.explanation_2 ?? '',
      explanation_3: record.explanation_3 ?? '',
    },
    goldLabel: nliGold(gold),
  };
}

function anli1Example(gold: GoldRecord): DatasetExample {
  const uid = stringField(gold, 'uid');
  return {
    id: `anli1/${gold.split}/${uid}`,
    split: gold.split,
    fields: { uid, premise: stringField(gold, 'premise'), hypothesis: stringField(gold, 'hypothesis'), reason: gold.record.reason ?? '' },
    goldLabel: nliGold(gold),
  };
}

const exampleReaders: Readonly<Record<DsbsDatasetName, (gold: GoldRecord) => DatasetExample>> = {
  anli1: anli1Example,
  cqa: cqaExample,
  esnli: esnliExample,
  svamp: svampExample,
};

/**
 * Turns one gold record into an example. Ids are `<dataset>/<split>/<key>`, where the key is the
 * record's own id for cqa (`id`) and anli1 (`uid`), and its 0-based line index for esnli and
 * svamp, which have no id; all are stable as long as the file is.
 */
export function dsbsExample(name: DsbsDatasetName, split: string, value: unknown, index: number, where: string): DatasetExample {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError({ message: `${where}: expected a JSON object`, fix: unmodifiedFileFix });
  }
  return exampleReaders[name]({ record: value as Record<string, unknown>, split, index, where });
}

/** Streams the examples of one split from its gold file, in file order. */
export async function* readDsbsExamples(root: string, name: DsbsDatasetName, split: string): AsyncGenerator<DatasetExample> {
  assertDsbsSplit(name, split);
  const file = dsbsGoldFile(root, name, split);
  for await (const { value, line, index } of readJsonLines(file, `gold file of ${name}/${split}`)) {
    yield dsbsExample(name, split, value, index, `${file}:${line}`);
  }
}

/**
 * The student's input (method.md §3, as Distilling Step-by-Step builds it): CQA the question and
 * lettered choices, NLI `premise </s> hypothesis`, SVAMP the problem text (`{body}\n{question}`).
 */
export function dsbsStudentInput(name: DsbsDatasetName, fields: Readonly<Record<string, unknown>>): string {
  switch (name) {
    case 'cqa': {
      const choices = fields.choices as readonly string[];
      const lines = choices.map((choice, position) => `(${String.fromCharCode(97 + position)}) ${choice}`);
      return `${String(fields.question)}\nAnswer Choices:\n${lines.join('\n')}`;
    }
    case 'esnli':
    case 'anli1':
      return `${String(fields.premise)} </s> ${String(fields.hypothesis)}`;
    case 'svamp':
      return String(fields.question);
  }
}
