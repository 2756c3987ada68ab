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
