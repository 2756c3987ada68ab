import type { Dataset } from '../../../core/plugins/kinds/dataset.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import type { TableDatasetOptions } from '../../../core/parsing/table-dataset.js';
import { tableDatasetDescription, tableDatasetProperties } from '../../../core/parsing/table-dataset-schema.js';
import { tableFormats, type TableFormat } from './table-format.js';

/** Options of {@link jsonlDataset}. */
export interface JsonlDatasetOptions extends TableDatasetOptions {
  /** `jsonl` or `csv`; default: from each file's extension. */
  readonly format?: TableFormat;
}

/**
 * A generic dataset from JSON Lines files (or CSV files, by extension or `format`, as the `csv`
 * dataset reads them) with a field mapping.
 */
export const jsonlDataset: PluginDescriptor<JsonlDatasetOptions, Dataset> = {
  id: 'jsonl',
  kind: 'dataset',
  version: '1.0.0',
  summary: 'Examples from JSON Lines or CSV files, one file per split, with a field mapping and a student input template.',
  optionsSchema: {
    type: 'object',
    description: `${tableDatasetDescription}\n\nA \`.csv\` file (or any file with \`format: csv\`) is read as the \`csv\` dataset reads it.`,
    additionalProperties: false,
    required: ['files'],
    properties: {
      files: {
        type: 'object',
        minProperties: 1,
        description:
          'Split name → data file (.jsonl, .ndjson, .json: one JSON object per line; .csv: a header row, then one row per example), relative to the pipeline file. The split names are yours; `dataset.splits` says which split trains and which tests.',
        additionalProperties: { type: 'string', existingPath: true, description: 'The split’s data file.' },
      },
      format: {
        enum: [...tableFormats],
        description: 'How every file is read: jsonl or csv. Absent: from each file’s extension.',
      },
      ...tableDatasetProperties,
    },
  },
  // Paths relative to the repository root (where the contract tests place a pipeline): the test fixtures.
  exampleOptions: {
    files: { train: 'test/plugins/datasets/fixtures/train.jsonl', test: 'test/plugins/datasets/fixtures/test.csv' },
    id_field: 'pair_id',
    label_field: 'gold',
    fields: { premise: 'sentence1', hypothesis: 'sentence2' },
    student_input: '{premise} </s> {hypothesis}',
    labels: ['entailment', 'neutral', 'contradiction'],
  },
  async create(options, dependencies) {
    const [{ createTableDataset }, { readerForFormat }] = await Promise.all([
      import('../../../core/parsing/table-dataset.js'),
      import('./table-format.js'),
    ]);
    return createTableDataset(options, dependencies.baseDirectory, {
      plugin: 'dataset/jsonl',
      readerOf: (file, given) => readerForFormat(options.format, file, given),
    });
  },
};
