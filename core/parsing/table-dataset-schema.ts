import type { JsonSchema } from '../plugins/json-schema.js';

/**
 * What a table dataset does with a record, in words: the options schemas' `description` of the
 * JSON Lines and CSV dataset plugins, shown on their reference pages and by `distill plugins <id>`.
 */
export const tableDatasetDescription = [
  'Each record (a JSON object per line, or a CSV row under a header row) becomes one example of its split.',
  '',
  '- **Fields** are what the teacher sees: the prompt plugin fills its `{field}` placeholders from them',
  '  (the built-in `nli-zero-shot` template names `{premise}` and `{hypothesis}`). `fields` maps each field',
  '  name to the column that holds it; without it every column except the label and id columns is a field',
  '  of its own name.',
  '- **`student_input`** is what the student sees, built from the same fields: `"{premise} </s> {hypothesis}"`',
  '  gives the student `A man sleeps. </s> A person rests.`. At training and at prediction the student',
  '  gets this text after the task prefix (`predict: ` for the label, `explain: ` for the rationale, on a',
  '  T5 student).',
  '- **Labels** belong here, on the dataset: `label_field` names the column of the gold (human) label and',
  '  `labels` lists the closed label set in id order, so a file that stores label ids (`0`, `1`, `2`)',
  '  reads as label words and `evaluation.score_labels` can score each label. The parser has its own',
  '  `labels` option: which words in the teacher’s answer count as which label.',
  '- Example ids are `<split>/<id_field value>` (or `<split>/<position>`), so the teacher cache and the',
  '  report follow an example across edits of the file when the file has an id column.',
].join('\n');

/**
 * The options schema properties shared by the table dataset plugins (`files` is each plugin's own:
 * its description names the formats it reads). Kept in one place so the two plugins document and
 * check them the same way.
 */
export const tableDatasetProperties: Readonly<Record<string, JsonSchema>> = {
  id_field: {
    type: 'string',
    minLength: 1,
    description:
      'Column holding a stable example id; example ids become `<split>/<value>`. Absent: the record’s 0-based position in its file.',
  },
  label_field: {
    type: 'string',
    minLength: 1,
    description:
      'Column holding the gold (human) label. Absent, or empty in a record: no gold label (the student can still train toward the teacher’s labels).',
  },
  fields: {
    type: 'object',
    description:
      'Field name → column name: the values the prompt’s and `student_input`’s `{field}` placeholders name. Absent: every column except the label and id columns, each a field of its own name (read from the first record).',
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    additionalProperties: { type: 'string', minLength: 1, description: 'The column that holds the field.' },
  },
  student_input: {
    type: 'string',
    minLength: 1,
    description:
      'The student’s input, with `{field}` placeholders filled from each example, e.g. `"{premise} </s> {hypothesis}"`; every placeholder must be a field. Absent: the field values, one per line.',
  },
  labels: {
    type: 'array',
    items: { type: 'string', minLength: 1 },
    minItems: 2,
    uniqueItems: true,
    description:
      'The closed label set, in id order: a gold label that is an integer and not itself a label is its index here (`0` → the first label). Needed for `evaluation.score_labels` on a T5 student.',
  },
};
