import type { Dataset } from '../../../core/plugins/kinds/dataset.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { tableFormats, type TableFormat } from './read-table-records.js';

/** Options of {@link jsonlDataset}. */
export interface JsonlDatasetOptions {
  /** Split name → file path (relative to the pipeline file), e.g. `{train: data/train.jsonl}`. */
  readonly files: Readonly<Record<string, string>>;
  /** `jsonl` or `csv`; default: from each file's extension. */
  readonly format?: TableFormat;
  /** Column holding a stable id; default: the record's 0-based position in its file. */
  readonly id_field?: string;
  /** Column holding the gold label; default: no gold labels. */
  readonly label_field?: string;
  /** Field name → column name; default: every column except the label becomes a field of its name. */
  readonly fields?: Readonly<Record<string, string>>;
  /** Student input with `{field}` placeholders; default: the field values, one per line. */
  readonly student_input?: string;
  /** The closed label set, if any; an integer gold label indexes it (NLI `0` → its first label). */
  readonly labels?: readonly string[];
}

/** A generic dataset from JSON Lines or CSV files with a field mapping. */
export const jsonlDataset: PluginDescriptor<JsonlDatasetOptions, Dataset> = {
  id: 'jsonl',
  kind: 'dataset',
  version: '1.0.0',
  summary: 'Examples from JSON Lines or CSV files, one file per split, with a field mapping and a student input template.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['files'],
    properties: {
      files: {
        type: 'object',
        minProperties: 1,
        description: 'Split name → file (.jsonl, .ndjson, .json or .csv), relative to the pipeline file.',
        additionalProperties: { type: 'string', existingPath: true },
      },
      format: { enum: [...tableFormats], description: 'File format; default: from the extension.' },
      id_field: { type: 'string', minLength: 1, description: 'Column holding a stable example id.' },
      label_field: { type: 'string', minLength: 1, description: 'Column holding the gold label.' },
      fields: {
        type: 'object',
        description: 'Field name → column name.',
        propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        additionalProperties: { type: 'string', minLength: 1 },
      },
      student_input: { type: 'string', minLength: 1, description: 'Student input with {field} placeholders.' },
      labels: {
        type: 'array',
        items: { type: 'string', minLength: 1 },
        minItems: 2,
        uniqueItems: true,
        description: 'The closed label set.',
      },
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
    const { createTableDataset } = await import('./table-dataset.js');
    return createTableDataset(options, dependencies.baseDirectory);
  },
};
