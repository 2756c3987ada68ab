import path from 'node:path';
import type { Dataset, DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import { didYouMeanPhrase } from '../../../core/errors/did-you-mean.js';
import type { Problem } from '../../../core/errors/problem.js';
import { UserError } from '../../../core/errors/user-error.js';
import { assertReadableFile } from '../../../core/parsing/read-lines.js';
import { fieldText, fillTemplate, findPlaceholders } from '../../../core/parsing/template-placeholders.js';
import type { JsonlDatasetOptions } from './jsonl-dataset.js';
import { formatFromExtension, readTableRecords, type TableFormat } from './read-table-records.js';

const plugin = 'dataset/jsonl';

/**
 * Builds the `jsonl` dataset: resolves and checks every file, learns the field names (from the
 * mapping, else from the first record), and checks the student input's placeholders against them,
 * so every mistake shows before any example is read.
 */
export async function createTableDataset(options: JsonlDatasetOptions, baseDirectory: string): Promise<Dataset> {
  const files = new Map<string, { file: string; format: TableFormat }>();
  for (const [split, given] of Object.entries(options.files)) {
    const file = path.resolve(baseDirectory, given);
    const format = options.format ?? formatFromExtension(file);
    if (format === null) {
      throw new UserError({
        message: `cannot tell the format of ${given} from its extension`,
        plugin,
        fix: 'name the file .jsonl or .csv, or set format: jsonl or format: csv',
      });
    }
    await assertReadableFile(
      file,
      `data file of split "${split}"`,
      `check files.${split}; relative paths resolve against the pipeline file's folder (${baseDirectory})`,
    );
    files.set(split, { file, format });
  }

  const mapping = options.fields ?? (await mappingFromFirstRecord(files.values().next().value!, options));
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
  const goldLabel = (value: unknown, where: string): string | null => {
    if (options.label_field === undefined) return null;
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

  async function* read(split: string): AsyncGenerator<DatasetExample> {
    const source = files.get(split);
    if (!source) {
      throw new UserError({
        message: `dataset has no split "${split}"`,
        plugin,
        fix: `${didYouMeanPhrase(split, files.keys())}splits: ${[...files.keys()].join(', ')}`,
      });
    }
    for await (const record of readTableRecords(source.file, source.format, `data file of split "${split}"`)) {
      const exampleFields: Record<string, unknown> = {};
      for (const [field, column] of Object.entries(mapping)) {
        if (!(column in record.value)) {
          throw new UserError({
            message: `${record.where}: column "${column}" (field ${field}) is missing`,
            plugin,
            fix: `${didYouMeanPhrase(column, Object.keys(record.value))}columns: ${Object.keys(record.value).join(', ')}`,
          });
        }
        exampleFields[field] = record.value[column];
      }
      let key = String(record.index);
      if (options.id_field !== undefined) {
        const id = record.value[options.id_field];
        if (id === undefined || id === null || id === '') {
          throw new UserError({
            message: `${record.where}: id column "${options.id_field}" is empty or missing`,
            plugin,
            fix: 'give every record an id, or drop id_field to number records by position',
          });
        }
        key = fieldText(id);
      }
      yield {
        id: `${split}/${key}`,
        split,
        fields: exampleFields,
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

/** Every column of the first record except the label and id columns, each a field of its own name. */
async function mappingFromFirstRecord(
  source: { file: string; format: TableFormat },
  options: JsonlDatasetOptions,
): Promise<Record<string, string>> {
  for await (const record of readTableRecords(source.file, source.format, 'data file')) {
    const columns = Object.keys(record.value).filter((column) => column !== options.label_field && column !== options.id_field);
    return Object.fromEntries(columns.map((column) => [column, column]));
  }
  throw new UserError({
    message: `${source.file} holds no records, so its fields cannot be learnt`,
    plugin,
    fix: 'add records, or list the fields option',
  });
}
