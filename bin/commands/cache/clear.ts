import { Flags } from '@oclif/core';
import { createInterface } from 'node:readline/promises';
import type { CacheClearResult } from '../../../core/teacher/cache-maintenance.js';
import { UserError } from '../../../core/errors/user-error.js';
import { BaseCommand } from '../base-command.js';

/** `distill cache clear`. */
export default class CacheClearCommand extends BaseCommand {
  static override summary = 'Remove answers from the teacher cache: all, older than some days, or of one model.';
  static override description =
    'Answers removed are paid for again when a pipeline asks for them. On a terminal the command asks before removing anything; ' +
    'elsewhere (a script, CI) it removes nothing without --yes.';
  static override examples = [
    '<%= config.bin %> cache clear --older-than 30',
    '<%= config.bin %> cache clear --model gpt-4o-mini --yes',
    '<%= config.bin %> cache clear',
  ];
  static override flags = {
    'older-than': Flags.integer({ description: 'Only answers stored more than this many days ago.', min: 0 }),
    model: Flags.string({ description: 'Only answers of this model id.' }),
    path: Flags.string({ description: 'Cache file (default: the shared cache, $DISTILL_CACHE_DIR/teacher-cache.sqlite).' }),
    yes: Flags.boolean({ char: 'y', description: 'Remove without asking (needed when stdin is not a terminal).', default: false }),
  };

  async run(): Promise<CacheClearResult | undefined> {
    const { flags } = await this.parse(CacheClearCommand);
    const { cacheStatistics, clearCache } = await import('../../../core/teacher/cache-maintenance.js');
    const selection = { path: flags.path, environment: process.env };
    const filter = { olderThanDays: flags['older-than'], model: flags.model };
    if (!flags.yes) {
      const statistics = cacheStatistics(selection);
      const which = [
        flags.model === undefined ? null : `of model ${flags.model}`,
        flags['older-than'] === undefined ? null : `older than ${flags['older-than']} days`,
      ].filter((part) => part !== null);
      const question = `remove the answers ${which.length > 0 ? which.join(' and ') : '(all of them)'} from ${statistics.file} (${statistics.entries} stored)?`;
      if (!process.stdin.isTTY) {
        throw new UserError({
          message: `cache clear would ${question.slice(0, -1)}, and stdin is not a terminal to ask`,
          fix: 'add --yes to remove them without asking',
        });
      }
      if (!(await this.confirm(`${question} [y/N] `))) {
        if (!this.jsonEnabled()) this.log('nothing removed');
        return undefined;
      }
    }
    const result = clearCache(selection, filter);
    if (!this.jsonEnabled()) this.log(`removed ${result.removed} answers from ${result.file}; ${result.remaining} left`);
    return result;
  }

  /** Asks on the terminal; only an answer starting with y is a yes. */
  private async confirm(question: string): Promise<boolean> {
    const terminal = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return /^\s*y/i.test(await terminal.question(question));
    } finally {
      terminal.close();
    }
  }
}
