import type { Dataset, DatasetExample, NamedDataset, NamedDatasetCatalogue } from '../../../core/plugins/kinds/dataset.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import { fillTemplate, findPlaceholders, unknownPlaceholderProblems } from '../../../core/parsing/template-placeholders.js';
import { UserError } from '../../../core/errors/user-error.js';
import {
  assertDsbsSplit,
  dsbsDatasetNames,
  dsbsDirectoryVariable,
  dsbsFields,
  dsbsFolderRequirement,
  dsbsGoldFile,
  dsbsLabels,
  dsbsSplits,
  isNliDataset,
  resolveDsbsRoot,
  type DsbsDatasetName,
} from './dsbs-layout.js';
import { dsbsStudentInput, readDsbsExamples } from './dsbs-records.js';
import { dsbsWorkedExamples } from './dsbs-worked-examples.js';

/** Options of {@link dsbsDataset}. */
export interface DsbsDatasetOptions {
  /** Which of the four datasets. */
  readonly name: DsbsDatasetName;
  /** The `dsbs` folder; default: the `DISTILL_DSBS_DIR` environment variable (relative to the working directory). */
  readonly root?: string;
  /**
   * The student's input as a `{field}` template (e.g. `"Premise: {premise}\nHypothesis: {hypothesis}"` for a
   * decoder student); default: Distilling Step-by-Step's input (`{premise} </s> {hypothesis}` for NLI).
   */
  readonly student_input?: string;
}

/**
 * Mean completion tokens per query that the zero-shot paper measured with GPT-3.5 (ANLI 61, CQA 28);
 * the other datasets have no measured figure.
 */
const measuredCompletionTokens: Partial<Record<DsbsDatasetName, number>> = { anli1: 61, cqa: 28 };

/** A dataset by its name, for `distill eval --dataset esnli`: SVAMP's equations are scored by their value. */
function namedDataset(name: DsbsDatasetName): NamedDataset {
  return {
    options: (root) => ({ name, ...(root === undefined ? {} : { root }) }),
    metric: name === 'svamp' ? 'numeric-equality' : 'exact-match',
  };
}

/** The student input of each example: the user's template (checked against the fields first), else the paper's. */
function studentInputOf(name: DsbsDatasetName, template: string | undefined): Dataset['studentInput'] {
  if (template === undefined) return (example) => dsbsStudentInput(name, example.fields);
  const problems = unknownPlaceholderProblems(findPlaceholders(template), dsbsFields[name], 'dataset/dsbs');
  if (problems.length > 0) throw new UserError(problems);
  return (example) => fillTemplate(template, example.fields);
}

function createDsbsDataset(name: DsbsDatasetName, root: string, studentTemplate?: string): Dataset {
  const tokens = measuredCompletionTokens[name];
  return {
    splits: dsbsSplits[name],
    fields: dsbsFields[name],
    labels: dsbsLabels(name),
    read: (split) => readDsbsExamples(root, name, split),
    studentInput: studentInputOf(name, studentTemplate),
    // NLI data pairs each premise with several hypotheses: hold them out together.
    ...(isNliDataset(name) ? { groupOf: (example: DatasetExample) => `premise: ${String(example.fields.premise)}` } : {}),
    sourceFiles(split) {
      assertDsbsSplit(name, split);
      return [dsbsGoldFile(root, name, split)];
    },
    workedExamples: (split) => dsbsWorkedExamples(root, name, split),
    ...(tokens === undefined ? {} : { expectedCompletionTokens: { tokens, source: `mean measured for ${name} (zero-shot paper)` } }),
  };
}

/**
 * The four Distilling Step-by-Step datasets as their gold files hold them (`../shared/data/README.md`).
 * Splits are the files' own (`train`/`test` for cqa and svamp, `valid`/`test` for esnli and anli1).
 * Ids: `cqa/<split>/<id>`, `anli1/<split>/<uid>`, `esnli/<split>/<line index>`, `svamp/<split>/<line index>`.
 * Gold labels as text: NLI `entailment`/`neutral`/`contradiction`, cqa the answer text, svamp the
 * equation. Files are streamed line by line. The only reader of the gold files: prompts get their
 * worked examples, and `distill eval` its gold examples, through the `Dataset` contract.
 */
export const dsbsDataset: PluginDescriptor<DsbsDatasetOptions, Dataset> & NamedDatasetCatalogue = {
  id: 'dsbs',
  kind: 'dataset',
  version: '1.2.0',
  summary: 'The Distilling Step-by-Step datasets anli1, cqa, esnli and svamp, read from their gold JSON Lines files.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { enum: [...dsbsDatasetNames], description: 'Which dataset: anli1, cqa, esnli or svamp.' },
      root: {
        type: 'string',
        existingPath: true,
        description: `Folder holding anli1/, cqa/, esnli/ and svamp/ (e.g. ../shared/data/dsbs); default: $${dsbsDirectoryVariable} (a relative path there resolves against the working directory).`,
      },
      student_input: {
        type: 'string',
        minLength: 1,
        description:
          'The student input as a {field} template, e.g. "Premise: {premise}\\nHypothesis: {hypothesis}"; default: the paper\'s input (NLI "{premise} </s> {hypothesis}").',
      },
    },
  },
  exampleOptions: { name: 'esnli', root: '../shared/data/dsbs' },
  namedDatasets: Object.fromEntries(dsbsDatasetNames.map((name) => [name, namedDataset(name)])),
  requirements: (options, context) => ({ paths: [dsbsFolderRequirement(options.name, options.root, context)] }),
  create(options, dependencies) {
    return createDsbsDataset(
      options.name,
      resolveDsbsRoot(options.root, dependencies.baseDirectory, dependencies.environment),
      options.student_input,
    );
  },
};
