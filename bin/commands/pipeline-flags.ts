import { Flags } from '@oclif/core';

/** `--set path.to.key=value`, for the commands that load a pipeline (`run`, `validate`, `estimate`, `teach`, `train`). */
export const overrideFlags = {
  set: Flags.string({
    description:
      'Override a pipeline value, e.g. --set trainer.options.max_steps=200 (the value is read as YAML; repeat for more). ' +
      'Shown in the run folder’s config.resolved.yaml.',
    helpValue: 'path.to.key=value',
    multiple: true,
    multipleNonGreedy: true,
  }),
};

/** `--accept-recipe-changes`, for the commands that reuse a run folder's stored stages (`run`, `teach`, `train`). */
export const recipeChangeFlags = {
  'accept-recipe-changes': Flags.boolean({
    description:
      'Run although a recipe inherited from an installed package changed since the run folder’s lockfile (a new version, other bytes); ' +
      'without it such a run stops before any stage and lists the changes. Stages whose signature is unchanged are still reused.',
    default: false,
  }),
};
