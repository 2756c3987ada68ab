import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { DatasetExample } from '../plugins/kinds/dataset.js';
import { UserError } from '../errors/user-error.js';
import { nliLabels } from './label-normalisation.js';
import { readJsonLines } from './json-lines.js';

/**
 * The layout and record shapes of the Distilling Step-by-Step data (`../shared/data/README.md`),
 * shared by the `dsbs` dataset, the few-shot exemplars of the `template` prompt and the `recorded`
 * teacher, which must all agree on ids and fields.
 */
export const dsbsDatasetNames = ['anli1', 'cqa', 'esnli', 'svamp'] as const;

/** One of {@link dsbsDatasetNames}. */
export type DsbsDatasetName = (typeof dsbsDatasetNames)[number];

/** Environment variable naming the `dsbs` folder when a pipeline gives no `root`. */
export const dsbsDirectoryVariable = 'DISTILL_DSBS_DIR';

/** The splits each dataset has on disk: e-SNLI and ANLI1 ship no train split. */
export const dsbsSplits: Readonly<Record<DsbsDatasetName, readonly string[]>> = {
  anli1: ['valid', 'test'],
  cqa: ['train', 'test'],
  esnli: ['valid', 'test'],
  svamp: ['train', 'test'],
};

/**
 * Field names per dataset. The record's own fields, plus:
 * - cqa: `a`…`e`, the five choices (the zero-shot template's placeholders), beside `choices`.
 * - svamp: `question` is the whole problem as the file's `input` holds it (statement, newline,
 *   question: what the zero-shot template's `{question}` means); `body` and `final_question` are
 *   its two parts.
 * Gold labels are not fields: they are `goldLabel`, so a template cannot leak them by accident.
 */
export const dsbsFields: Readonly<Record<DsbsDatasetName, readonly string[]>> = {
  anli1: ['uid', 'premise', 'hypothesis', 'reason'],
  cqa: ['id', 'question', 'choices', 'a', 'b', 'c', 'd', 'e', 'abstractive_explanation', 'extractive_explanation'],
  esnli: ['premise', 'hypothesis', 'explanation_1', 'explanation_2', 'explanation_3'],
  svamp: ['question', 'body', 'final_question'],
};

/** Label set per dataset: NLI's three labels, else open (choice texts, equations). */
export function dsbsLabels(name: DsbsDatasetName): readonly string[] | null {
  return name === 'anli1' || name === 'esnli' ? nliLabels : null;
}

/** The gold JSON Lines file of a split, e.g. `<root>/cqa/cqa_train.json`. */
export function dsbsGoldFile(root: string, name: DsbsDatasetName, split: string): string {
  return path.join(root, name, `${name}_${split}.json`);
}

/** Whether `split` is a split of the dataset; a {@link UserError} listing the splits when not. */
export function assertDsbsSplit(name: DsbsDatasetName, split: string): void {
  if (!dsbsSplits[name].includes(split)) {
    throw new UserError({
      message: `dataset ${name} has no split "${split}"`,
      fix: `use one of: ${dsbsSplits[name].join(', ')}${name === 'esnli' || name === 'anli1' ? ' (there is no train split: train on valid, test on test)' : ''}`,
    });
  }
}

/**
 * The teacher shard files of a split in shard order (`llm/train_CoT_0.json`, `…_1.json`, …); a
 * {@link UserError} when there are none.
 */
export async function dsbsShardFiles(root: string, name: DsbsDatasetName, split: string): Promise<string[]> {
  const folder = path.join(root, name, 'llm');
  const pattern = new RegExp(`^${split}_CoT_(\\d+)\\.json$`);
  let entries: string[] = [];
  try {
    entries = await readdir(folder);
  } catch {
    // reported below with the missing folder named
  }
  const shards = entries
    .map((entry) => ({ entry, match: pattern.exec(entry) }))
    .filter((candidate) => candidate.match !== null)
    .map((candidate) => ({ file: path.join(folder, candidate.entry), number: Number(candidate.match![1]) }))
    .sort((left, right) => left.number - right.number);
  if (shards.length === 0) {
    throw new UserError({
      message: `no recorded teacher outputs for ${name}/${split}: expected ${path.join(folder, `${split}_CoT_0.json`)}`,
      fix: 'point root at the dsbs folder of ../shared/data (it holds <dataset>/llm/<split>_CoT_<n>.json)',
    });
  }
  shards.forEach((shard, position) => {
    if (shard.number !== position) {
      throw new UserError({
        message: `teacher shard ${split}_CoT_${position}.json is missing in ${folder}`,
        fix: 'restore the missing shard file',
      });
    }
  });
  return shards.map((shard) => shard.file);
}

function stringField(record: Record<string, unknown>, key: string, where: string): string {
  const value = record[key];
  if (typeof value !== 'string') {
    throw new UserError({
      message: `${where}: field "${key}" should be a string, got ${JSON.stringify(value)}`,
      fix: 'check that the file is an unmodified dsbs gold file',
    });
  }
  return value;
}

/**
 * Turns one gold record into an example. Ids are `<dataset>/<split>/<key>`, where the key is the
 * record's own id for cqa (`id`) and anli1 (`uid`), and its 0-based line index for esnli and
 * svamp, which have no id; all are stable as long as the file is.
 */
export function dsbsExample(name: DsbsDatasetName, split: string, value: unknown, index: number, where: string): DatasetExample {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UserError({ message: `${where}: expected a JSON object`, fix: 'check that the file is an unmodified dsbs gold file' });
  }
  const record = value as Record<string, unknown>;
  const nliGold = (): string => {
    const label = record.label;
    if (typeof label !== 'number' || nliLabels[label] === undefined) {
      throw new UserError({
        message: `${where}: label should be 0, 1 or 2, got ${JSON.stringify(label)}`,
        fix: 'check that the file is an unmodified dsbs gold file',
      });
    }
    return nliLabels[label]!;
  };
  switch (name) {
    case 'cqa': {
      const choices = record.choices;
      if (!Array.isArray(choices) || choices.length !== 5 || !choices.every((choice) => typeof choice === 'string')) {
        throw new UserError({
          message: `${where}: "choices" should be five strings`,
          fix: 'check that the file is an unmodified dsbs gold file',
        });
      }
      const [a, b, c, d, e] = choices as string[];
      const id = stringField(record, 'id', where);
      return {
        id: `cqa/${split}/${id}`,
        split,
        fields: {
          id,
          question: stringField(record, 'question', where),
          choices,
          a,
          b,
          c,
          d,
          e,
          abstractive_explanation: record.abstractive_explanation ?? '',
          extractive_explanation: record.extractive_explanation ?? '',
        },
        goldLabel: stringField(record, 'answer', where),
      };
    }
    case 'svamp': {
      const question = stringField(record, 'input', where);
      const lastBreak = question.lastIndexOf('\n');
      return {
        id: `svamp/${split}/${index}`,
        split,
        fields: {
          question,
          body: lastBreak < 0 ? '' : question.slice(0, lastBreak),
          final_question: question.slice(lastBreak + 1),
        },
        goldLabel: stringField(record, 'label', where),
      };
    }
    case 'esnli':
      return {
        id: `esnli/${split}/${index}`,
        split,
        fields: {
          premise: stringField(record, 'premise', where),
          hypothesis: stringField(record, 'hypothesis', where),
          explanation_1: record.explanation_1 ?? '',
          explanation_2: record.explanation_2 ?? '',
          explanation_3: record.explanation_3 ?? '',
        },
        goldLabel: nliGold(),
      };
    case 'anli1': {
      const uid = stringField(record, 'uid', where);
      return {
        id: `anli1/${split}/${uid}`,
        split,
        fields: {
          uid,
          premise: stringField(record, 'premise', where),
          hypothesis: stringField(record, 'hypothesis', where),
          reason: record.reason ?? '',
        },
        goldLabel: nliGold(),
      };
    }
  }
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
