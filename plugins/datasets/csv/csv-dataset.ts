import type { Dataset } from '../../../core/plugins/kinds/dataset.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { TableDatasetOptions } from '../../../core/parsing/table-dataset.js';
import { tableDatasetDescription, tableDatasetProperties } from '../../../core/parsing/table-dataset-schema.js';

/** Options of {@link csvDataset}. */
export interface CsvDatasetOptions extends TableDatasetOptions {
  /** The character between cells; default `,` (`;` and a tab are common too). */
  readonly separator?: string;
}

const csvRules = [
  'CSV as RFC 4180 writes it: the first row names the columns (each once), every later row is one example',
  'with as many cells as the header. A cell holding the separator, a quote or a line break is quoted',
  '(`"a, b"`), and a quote inside it is doubled (`"say ""hi"""`). CRLF and LF line ends both work, a',
  'byte order mark is dropped and blank lines are skipped. Cells are text: `label_field` values such as',
  '`0` are label ids only with `labels`. A ragged row, an unclosed quote or a row over 1,048,576 characters',
  'is an error naming `file:line`.',
].join('\n');

/** A dataset from CSV files with a header row, one file per split, sharing the table dataset's field mapping. */
export const csvDataset: PluginDescriptor<CsvDatasetOptions, Dataset> = {
  id: 'csv',
  kind: 'dataset',
  version: '1.0.0',
  summary: 'Examples from CSV files with a header row, one file per split, with a field mapping and a student input template.',
  optionsSchema: {
    type: 'object',
    description: `${tableDatasetDescription}\n\n${csvRules}`,
    additionalProperties: false,
    required: ['files'],
    properties: {
      files: {
        type: 'object',
        minProperties: 1,
        description:
          'Split name → CSV file (a header row, then one row per example), relative to the pipeline file. The split names are yours; `dataset.splits` says which split trains and which tests.',
        additionalProperties: { type: 'string', existingPath: true, description: 'The split’s CSV file.' },
      },
      separator: {
        type: 'string',
        minLength: 1,
        maxLength: 1,
        not: { enum: ['"', '\n', '\r'] },
        default: ',',
        description: 'The character between cells: `,`, or `;` or a tab (`"\\t"` in YAML) for files that use them.',
      },
      ...tableDatasetProperties,
    },
  },
  // Paths relative to the repository root (where the contract tests place a pipeline): the test fixture.
  exampleOptions: {
    files: { train: 'test/plugins/datasets/fixtures/test.csv', test: 'test/plugins/datasets/fixtures/test.csv' },
    id_field: 'pair_id',
    label_field: 'gold',
    fields: { premise: 'sentence1', hypothesis: 'sentence2' },
    student_input: '{premise} </s> {hypothesis}',
    labels: ['entailment', 'neutral', 'contradiction'],
  },
  async create(options, dependencies) {
    const [{ createTableDataset }, { csvTableReader }] = await Promise.all([
      import('../../../core/parsing/table-dataset.js'),
      import('../../../core/parsing/table-records.js'),
    ]);
    const reader = csvTableReader(options.separator ?? ',');
    return createTableDataset(options, dependencies.baseDirectory, { plugin: 'dataset/csv', readerOf: () => reader });
  },
};
