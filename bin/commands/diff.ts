import { Args, Flags } from '@oclif/core';
import type { PipelineDiff } from '../../core/runner/diff-pipeline.js';
import { isUserError } from '../../core/errors/user-error.js';
import { BaseCommand } from './base-command.js';

/** `distill diff <pipeline>`: what changed in the inherited recipes since a run, key by key. */
export default class DiffCommand extends BaseCommand {
  static override summary = 'Show how a pipeline’s resolved configuration differs from the one a run recorded, key by key.';
  static override description =
    'The old side is the same pipeline with each recipe package read from the run folder’s snapshot of the version it ran with; ' +
    'each changed key is printed with the file:line:col of both sides. Exits 0 when equal, 1 when different, 2 on a mistake ' +
    '(no lockfile, a missing snapshot, an unknown version).';
  static override examples = [
    '<%= config.bin %> diff pipeline.yaml',
    '<%= config.bin %> diff pipeline.yaml --against @acme/distill-recipes@1.0.0',
    '<%= config.bin %> diff pipeline.yaml --against runs/nli/distill.lock.json --json',
  ];
  static override flags = {
    against: Flags.string({
      description:
        'What to compare with: a distill.lock.json, a run folder, or a version among the run folder’s snapshots (1.0.0, @acme/recipes@1.0.0). ' +
        'Default: the lockfile of the pipeline’s run folder.',
      helpValue: 'lockfile|run folder|version',
    }),
  };
  static override args = {
    pipeline: Args.string({ description: 'Pipeline file to compare.', required: true }),
  };

  async run(): Promise<PipelineDiff> {
    const { args, flags } = await this.parse(DiffCommand);
    const [{ builtinRegistry }, { diffPipeline, formatPipelineDiff }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/runner/diff-pipeline.js'),
    ]);
    const diff = await diffPipeline(args.pipeline, { against: flags.against, registry: builtinRegistry() });
    if (!this.jsonEnabled()) this.log(formatPipelineDiff(diff));
    // Like `git diff --exit-code`: a script can tell "changed" from "equal" without parsing.
    if (diff.changes.length > 0) process.exitCode = 1;
    return diff;
  }

  /** A mistake exits 2, so that 1 keeps meaning "different". */
  protected override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    const result = await super.catch(error);
    if (isUserError(error)) process.exitCode = 2;
    return result;
  }
}
