import path from 'node:path';
import type { Dataset, DatasetExample } from '../plugins/kinds/dataset.js';
import { didYouMeanPhrase } from '../errors/did-you-mean.js';
import type { Problem } from '../errors/problem.js';
import { UserError } from '../errors/user-error.js';
import { assertReadableFile } from './read-lines.js';
import type { TableRecord, TableReader } from './table-records.js';
import { fieldText, fillTemplate, findPlaceholders } from './template-placeholders.js';

/** The options every table dataset plugin shares (see `tableDatasetProperties`). */
export interface TableDatasetOptions {
  /** Split name → file path (relative to the pipeline file), e.g. `{train: data/train.jsonl}`. */
  readonly files: Readonly<Record<string, string>>;
  /** Column holding a stable id; default: the record's 0-based position in its file. */
  readonly id_field?: string;
  /** Column holding the gold label; default: no gold labels. */
  readonly label_field?: string;
  /** Field name → column name; default: every column except the label and id becomes a field of its name. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Student input with `{field}` placeholders; default: the field values, one per line. */
  readonly student_input?: string;
  /** The closed label set, if any; an integer gold label indexes it (NLI `0` → its first label). */
  readonly labels?: readonly string[];
}

/** What differs between the table dataset plugins: their name in messages and how a file is read. */
export interface TableDatasetSettings {
  /** `kind/id` of the plugin, for problems. */
  readonly plugin: string;
  /**
   * The reader of one split's file (`given` as written in the options, for messages); throws a
   * {@link UserError} when the file cannot be read by this plugin.
   */
  readerOf(file: string, given: string): TableReader;
}

/** A split's data file and its reader. */
interface TableSource {
  readonly file: string;
  readonly read: TableReader;
}

/**
 * Builds a dataset from one table file per split (JSON Lines objects, CSV rows): resolves and
 * checks every file, learns the field names (from the mapping, else from the first record), and
 * checks the student input's placeholders against them, so every mistake shows before any example
 * is read. Shared by the JSON Lines and CSV dataset plugins, so both turn a record into an example
 * the same way.
 */
export async function createTableDataset(
  options: TableDatasetOptions,
  baseDirectory: string,
  settings: TableDatasetSettings,
): Promise<Dataset> {
  const { plugin } = settings;
  const files = await splitFiles(options, baseDirectory, settings);
  const mapping = options.fields ?? (await mappingFromFirstRecord(files.values().next().value!, options, plugin));
  const fields = Object.keys(mapping);
  const studentTemplate = options.student_input ?? fields.map((field) => `{${field}}`).join('\n');
  const problems: Problem[] = findPlaceholders(studentTemplate)
    .filter((name) => !fields.includes(name))
    .map((name) => ({
      message: `student_input uses {${name}}, which is not a field of this dataset`,
      plugin,
      fix: `${didYouMeanPhrase(name, fields)}fields: ${fields.join(', ')}`,
    }));
  if (problems.length > 0) throw new UserError(problems);

  const labels = options.labels ?? null;
  const goldLabel = goldLabelReader(options.label_field, labels, plugin);
  async function* read(split: string): AsyncGenerator<DatasetExample> {
    const source = files.get(split);
    if (!source) {
      throw new UserError({
        message: `dataset has no split "${split}"`,
        plugin,
        fix: `${didYouMeanPhrase(split, files.keys())}splits: ${[...files.keys()].join(', ')}`,
      });
    }
    for await (const record of source.read(source.file, `data file of split "${split}"`)) {
      // Fields before the key: a record missing both is reported for its column first.
      const fields = exampleFields(record, mapping, plugin);
      yield {
        id: `${split}/${recordKey(record, options.id_field, plugin)}`,
        split,
        fields,
        goldLabel: goldLabel(options.label_field === undefined ? undefined : record.value[options.label_field], record.where),
      };
    }
  }

  return {
    splits: [...files.keys()],
    fields,
    labels,
    read,
    studentInput: (example) => fillTemplate(studentTemplate, example.fields),
    sourceFiles(split) {
      const source = files.get(split);
      return source ? [source.file] : [];
    },
  };
}

/** Each split's file, resolved from the pipeline's folder, with its reader; a file that cannot be read is a user error. */
async function splitFiles(
  options: TableDatasetOptions,
  baseDirectory: string,
  settings: TableDatasetSettings,
): Promise<Map<string, TableSource>> {
  const files = new Map<string, TableSource>();
  for (const [split, given] of Object.entries(options.files)) {
    const file = path.resolve(baseDirectory, given);
    const read = settings.readerOf(file, given);
    await assertReadableFile(
      file,
      `data file of split "${split}"`,
      `check files.${split}; relative paths resolve against the pipeline file's folder (${baseDirectory})`,
    );
    files.set(split, { file, read });
  }
  return files;
}

/** Reads a record's gold label from its label column's value (null without a label field or value). */
function goldLabelReader(
  labelField: string | undefined,
  labels: readonly string[] | null,
  plugin: string,
): (value: unknown, where: string) => string | null {
  return (value, where) => {
    if (labelField === undefined) return null;
    if (value === undefined || value === null || value === '') return null;
    const text = fieldText(value).trim();
    // NLI files often store label ids: with a label list, an integer that is not itself a label indexes it.
    if (labels && !labels.includes(text) && /^\d+$/.test(text)) {
      const label = labels[Number(text)];
      if (label === undefined) {
        throw new UserError({
          message: `${where}: label ${text} is out of range for labels ${labels.join(', ')}`,
          plugin,
          fix: 'list every label in labels, in id order',
        });
      }
      return label;
    }
    return text;
  };
}

/** The example's fields, each from its column; a missing column is a user error. */
function exampleFields(record: TableRecord, mapping: Readonly<Record<string, string>>, plugin: string): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(mapping)) {
    if (!(column in record.value)) {
      throw new UserError({
        message: `${record.where}: column "${column}" (field ${field}) is missing`,
        plugin,
        fix: `${didYouMeanPhrase(column, Object.keys(record.value))}columns: ${Object.keys(record.value).join(', ')}`,
      });
    }
    fields[field] = record.value[column];
  }
  return fields;
}

/** The record's key within its split: its id column's value, else its position. */
function recordKey(record: TableRecord, idField: string | undefined, plugin: string): string {
  if (idField === undefined) return String(record.index);
  const id = record.value[idField];
  if (id === undefined || id === null || id === '') {
    throw new UserError({
      message: `${record.where}: id column "${idField}" is empty or missing`,
      plugin,
      fix: 'give every record an id, or drop id_field to number records by position',
    });
  }
  return fieldText(id);
}

/** Every column of the first record except the label and id columns, each a field of its own name. */
async function mappingFromFirstRecord(source: TableSource, options: TableDatasetOptions, plugin: string): Promise<Record<string, string>> {
  for await (const record of source.read(source.file, 'data file')) {
    const columns = Object.keys(record.value).filter((column) => column !== options.label_field && column !== options.id_field);
    return Object.fromEntries(columns.map((column) => [column, column]));
  }
  throw new UserError({
    message: `${source.file} holds no records, so its fields cannot be learnt`,
    plugin,
    fix: 'add records, or list the fields option',
  });
}
