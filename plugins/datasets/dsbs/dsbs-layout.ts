import path from 'node:path';
import { UserError } from '../../../core/errors/user-error.js';
import { nliLabels } from '../../../core/parsing/label-normalisation.js';
import { dataFolderRequirement, resolveDataFolder, type DataFolderRequest } from '../../../core/parsing/resolve-data-folder.js';
import type { RequiredPath, RequirementContext } from '../../../core/plugins/plugin-requirements.js';

/**
 * The layout of the Distilling Step-by-Step data (`../shared/data/README.md`): which datasets there
 * are, the splits each ships, and where a split's gold file lies. The `dsbs` dataset is the only
 * reader of the gold files; everything else gets their examples through the `Dataset` contract.
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

/** Whether the dataset is one of the two NLI datasets, which share the label set and the premise/hypothesis shape. */
export function isNliDataset(name: DsbsDatasetName): boolean {
  return name === 'anli1' || name === 'esnli';
}

/** Label set per dataset: NLI's three labels, else open (choice texts, equations). */
export function dsbsLabels(name: DsbsDatasetName): readonly string[] | null {
  return isNliDataset(name) ? nliLabels : null;
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
      fix: `use one of: ${dsbsSplits[name].join(', ')}${isNliDataset(name) ? ' (there is no train split: train on valid, test on test)' : ''}`,
    });
  }
}

/** The dsbs data folder as the `root` option or `$DISTILL_DSBS_DIR` names it. */
function dsbsFolderRequest(root: string | undefined): DataFolderRequest {
  return {
    given: root,
    option: 'root',
    variable: dsbsDirectoryVariable,
    what: 'dsbs data folder',
    holds: 'the folder holding anli1/, cqa/, esnli/, svamp/ (e.g. ../shared/data/dsbs)',
    plugin: 'dataset/dsbs',
  };
}

/**
 * The dsbs data folder: the `root` option resolved against the pipeline's folder, else
 * `$DISTILL_DSBS_DIR` resolved against the working directory; a {@link UserError} naming both ways
 * when neither is given.
 */
export function resolveDsbsRoot(
  root: string | undefined,
  baseDirectory: string,
  environment: Readonly<Record<string, string | undefined>>,
): string {
  return resolveDataFolder(dsbsFolderRequest(root), baseDirectory, environment);
}

/** The dataset's own folder inside the dsbs data folder: what a run needs before it starts. */
export function dsbsFolderRequirement(name: DsbsDatasetName, root: string | undefined, context: RequirementContext): RequiredPath {
  return dataFolderRequirement(dsbsFolderRequest(root), context, name);
}
