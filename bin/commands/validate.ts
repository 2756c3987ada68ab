import { Args, Flags } from '@oclif/core';
import type { PipelineValidation } from '../../core/config/validate-pipeline-files.js';
import { formatUserError } from '../../core/errors/format-user-error.js';
import { UserError } from '../../core/errors/user-error.js';
import { BaseCommand } from './base-command.js';
import { overrideFlags } from './pipeline-flags.js';

/** `distill validate <pipeline...>`: check pipelines without running them. */
export default class ValidateCommand extends BaseCommand {
  static override summary = 'Check pipeline files: YAML syntax, shape, plugin ids and every plugin option.';
  static override description =
    'Reports every problem at once, each at file:line:col with its JSON pointer and a fix. Exits 1 when any pipeline is invalid. ' +
    'With --locked it also exits 1 when the recipes the pipeline inherits from installed packages (package, version, sha256 of ' +
    'each file) differ from those its run folder’s lockfile (distill.lock.json) pins, one message per difference, or when there is no lockfile yet.';
  static override examples = [
    '<%= config.bin %> validate pipelines/anli1-zero-shot-openai.yaml',
    '<%= config.bin %> validate pipelines/*.yaml --json',
    '<%= config.bin %> validate pipelines/quickstart.yaml --set trainer.options.learning_rate=1e-4',
  ];
  static override strict = false;
  static override flags = {
    ...overrideFlags,
    locked: Flags.boolean({
      description:
        'Fail when the recipes inherited from installed packages differ from those the run folder’s distill.lock.json pins (or there is none): for CI.',
      default: false,
    }),
  };
  static override args = {
    pipeline: Args.string({ description: 'Pipeline file(s) to check.', required: true }),
  };

  async run(): Promise<{ valid: boolean; pipelines: PipelineValidation[] }> {
    const { argv, flags } = await this.parse(ValidateCommand);
    const [{ builtinRegistry }, { validatePipelineFiles }, { lockedRecipeProblems }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/config/validate-pipeline-files.js'),
      import('../../core/runner/recipe-lock.js'),
    ]);
    const results = await validatePipelineFiles(argv as string[], {
      registry: builtinRegistry(),
      overrides: flags.set ?? [],
      environmentFile: this.environmentFile,
      ...(flags.locked ? { check: lockedRecipeProblems } : {}),
    });
    if (!this.jsonEnabled()) {
      for (const result of results) {
        if (result.valid) this.log(`✓ ${result.file}`);
        else process.stderr.write(`✗ ${result.file}\n${formatUserError(new UserError(result.problems))}\n`);
      }
    }
    const valid = results.every((result) => result.valid);
    if (!valid) process.exitCode = 1;
    return { valid, pipelines: results };
  }
}
