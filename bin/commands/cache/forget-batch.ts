import { Args, Flags } from '@oclif/core';
import type { ForgetBatchResult } from '../../../core/teacher/batch/batch-store.js';
import { BaseCommand } from '../base-command.js';

/** `distill cache forget-batch <id>`. */
export default class CacheForgetBatchCommand extends BaseCommand {
  static override summary = 'Forget a provider batch (teacher.mode: batch) so that its unanswered requests are submitted again.';
  static override description =
    'For a batch the provider no longer knows (deleted, another API key, past its retention): the next run submits again ' +
    'the requests of that batch that have no answer yet. Answers already collected stay in the cache and are never paid again.';
  static override examples = [
    '<%= config.bin %> cache forget-batch batch_6803f6a1c0f88190',
    '<%= config.bin %> cache forget-batch msgbatch_01HkcTjaV5uDC8jWR4ZsDV8d --path ./my-cache.sqlite',
  ];
  static override args = {
    batch: Args.string({ description: "The provider's batch id, as the error that named it says.", required: true }),
  };
  static override flags = {
    path: Flags.string({ description: 'Cache file (default: the shared cache, $DISTILL_CACHE_DIR/teacher-cache.sqlite).' }),
  };

  async run(): Promise<ForgetBatchResult> {
    const { args, flags } = await this.parse(CacheForgetBatchCommand);
    const [{ resolveCachePath }, { forgetBatchInFile }] = await Promise.all([
      import('../../../core/teacher/cache-location.js'),
      import('../../../core/teacher/batch/batch-store.js'),
    ]);
    const file = resolveCachePath({ configuredPath: flags.path, environment: process.env });
    const result = forgetBatchInFile(file, args.batch);
    if (!this.jsonEnabled()) {
      const { forgotten } = result;
      this.log(
        forgotten
          ? `forgot batch ${args.batch} (${forgotten.itemCount} requests, ${forgotten.state}) in ${file}: the next run submits again those of its requests that have no answer yet`
          : `${file} holds no batch ${args.batch}: nothing to forget`,
      );
    }
    return result;
  }
}
