import { Flags } from '@oclif/core';
import { cacheStatistics } from '../../../core/teacher/cache-maintenance.js';
import type { CacheStatistics } from '../../../core/teacher/teacher-cache.js';
import { BaseCommand } from '../base-command.js';

/** `distill cache stats`. */
export default class CacheStatsCommand extends BaseCommand {
  static override summary = 'Show the teacher cache: entries, size, and answers by provider and model.';
  static override description =
    'The cache is shared by all pipelines: $DISTILL_CACHE_DIR/teacher-cache.sqlite, else $XDG_CACHE_HOME/distill/, else ~/.cache/distill/ (a pipeline may set cache.path).';
  static override examples = ['<%= config.bin %> cache stats', '<%= config.bin %> cache stats --path ./my-cache.sqlite --json'];
  static override flags = {
    path: Flags.string({ description: 'Cache file (default: the shared cache).' }),
  };

  async run(): Promise<CacheStatistics> {
    const { flags } = await this.parse(CacheStatsCommand);
    const statistics = cacheStatistics({ path: flags.path, environment: process.env });
    if (!this.jsonEnabled()) {
      this.log(`${statistics.file}${statistics.exists ? '' : ' (not created yet)'}`);
      this.log(
        `  ${statistics.entries} answers, ${(statistics.sizeBytes / 1024 / 1024).toFixed(2)} MiB${statistics.oldest ? `, from ${statistics.oldest} to ${statistics.newest}` : ''}`,
      );
      for (const row of statistics.byModel) {
        this.log(
          `  ${`${row.provider}/${row.model}`.padEnd(40)} ${String(row.entries).padStart(8)} answers ${String(row.promptTokens).padStart(12)} prompt ${String(row.completionTokens).padStart(10)} completion tokens`,
        );
      }
    }
    return statistics;
  }
}
