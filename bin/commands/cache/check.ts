import { Flags } from '@oclif/core';
import { checkCache, type CacheCheckResult } from '../../../core/teacher/cache-maintenance.js';
import { BaseCommand } from '../base-command.js';

/** `distill cache check`. */
export default class CacheCheckCommand extends BaseCommand {
  static override summary = 'Check the teacher cache: SQLite integrity check and how many answers can be read.';
  static override description =
    'Reads only, so it can run beside a pipeline. Exits 1 when the cache is damaged or unreadable, saying what is wrong, how many answers a repair would keep, and what to do.';
  static override examples = ['<%= config.bin %> cache check', '<%= config.bin %> cache check --path ./my-cache.sqlite --json'];
  static override flags = {
    path: Flags.string({ description: 'Cache file (default: the shared cache).' }),
  };

  async run(): Promise<CacheCheckResult> {
    const { flags } = await this.parse(CacheCheckCommand);
    const result = checkCache({ path: flags.path, environment: process.env });
    if (!this.jsonEnabled()) {
      if (result.healthy)
        this.log(
          result.exists
            ? `✓ ${result.file}: healthy, ${result.readableAnswers} answers`
            : `${result.file} (not created yet): nothing to check`,
        );
      else {
        const lines = [`✗ ${result.file}`, ...result.problems.map((problem) => `  ${problem}`)];
        const nothing = result.readableAnswers === 0 && result.unreadableAnswers === 0;
        lines.push(
          nothing
            ? '  no answer can be read from it'
            : `  ${result.readableAnswers} answers can be read; about ${result.unreadableAnswers} cannot`,
        );
        if (result.fix) lines.push(`  fix: ${result.fix}`);
        process.stderr.write(lines.join('\n') + '\n');
      }
    }
    if (!result.healthy) process.exitCode = 1;
    return result;
  }
}
