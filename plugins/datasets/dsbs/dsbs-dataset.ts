import type { Dataset, DatasetExample } from '../../../core/plugins/kinds/dataset.js';
import type { PluginDescriptor } from '../../../core/plugins/plugin-descriptor.js';
import {
  assertDsbsSplit,
  dsbsDatasetNames,
  dsbsDirectoryVariable,
  dsbsFields,
  dsbsGoldFile,
  dsbsLabels,
  dsbsSplits,
  dsbsStudentInput,
  readDsbsExamples,
  type DsbsDatasetName,
} from '../../../core/parsing/dsbs-datasets.js';
import { resolveDsbsRoot } from '../../../core/parsing/resolve-data-root.js';

/** Options of {@link dsbsDataset}. */
export interface DsbsDatasetOptions {
  /** Which of the four datasets. */
  readonly name: DsbsDatasetName;
  /** The `dsbs` folder; default: the `DISTILL_DSBS_DIR` environment variable. */
  readonly root?: string;
}

/**
 * Mean completion tokens per query that the zero-shot paper measured with GPT-3.5 (ANLI 61, CQA 28),
 * for `distill estimate`; the other datasets were not measured.
 */
const measuredCompletionTokens: Partial<Record<DsbsDatasetName, number>> = { anli1: 61, cqa: 28 };

/**
 * The four Distilling Step-by-Step datasets as their gold files hold them (`../shared/data/README.md`).
 * Splits are the files' own (`train`/`test` for cqa and svamp, `valid`/`test` for esnli and anli1).
 * Ids: `cqa/<split>/<id>`, `anli1/<split>/<uid>`, `esnli/<split>/<line index>`, `svamp/<split>/<line index>`.
 * Gold labels as text: NLI `entailment`/`neutral`/`contradiction`, cqa the answer text, svamp the
 * equation. Files are streamed line by line.
 */
export const dsbsDataset: PluginDescriptor<DsbsDatasetOptions, Dataset> = {
  id: 'dsbs',
  kind: 'dataset',
  version: '1.1.0',
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
        description: `Folder holding anli1/, cqa/, esnli/ and svamp/ (e.g. ../shared/data/dsbs); default: $${dsbsDirectoryVariable}.`,
      },
    },
  },
  exampleOptions: { name: 'esnli', root: '../shared/data/dsbs' },
  create(options, dependencies) {
    const root = resolveDsbsRoot(options.root, dependencies.baseDirectory, dependencies.environment, 'dataset/dsbs');
    const name = options.name;
    return {
      splits: dsbsSplits[name],
      fields: dsbsFields[name],
      labels: dsbsLabels(name),
      read: (split) => readDsbsExamples(root, name, split),
      studentInput: (example) => dsbsStudentInput(name, example.fields),
      // NLI data pairs each premise with several hypotheses: hold them out together.
      ...(name === 'esnli' || name === 'anli1'
        ? { groupOf: (example: DatasetExample) => `premise: ${String(example.fields.premise)}` }
        : {}),
      sourceFiles(split) {
        assertDsbsSplit(name, split);
        return [dsbsGoldFile(root, name, split)];
      },
      ...(measuredCompletionTokens[name] !== undefined
        ? { completionTokensPerExample: { tokens: measuredCompletionTokens[name], source: `mean measured for ${name} (zero-shot paper)` } }
        : {}),
    };
  },
};
