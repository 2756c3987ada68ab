import { Flags } from '@oclif/core';
import { clearCache, type CacheClearResult } from '../../../core/teacher/cache-maintenance.js';
import { BaseCommand } from '../base-command.js';

/** `distill cache clear`. */
export default class CacheClearCommand extends BaseCommand {
  static override summary = 'Remove answers from the teacher cache: all, older than some days, or of one model.';
  static override examples = [
    '<%= config.bin %> cache clear --older-than 30',
    '<%= config.bin %> cache clear --model gpt-4o-mini',
    '<%= config.bin %> cache clear',
  ];
  static override flags = {
    'older-than': Flags.integer({ description: 'Only answers stored more than this many days ago.', min: 0 }),
    model: Flags.string({ description: 'Only answers of this model id.' }),
    path: Flags.string({ description: 'Cache file (default: the shared cache).' }),
  };

  async run(): Promise<CacheClearResult> {
    const { flags } = await this.parse(CacheClearCommand);
    const result = clearCache({ path: flags.path, environment: process.env }, { olderThanDays: flags['older-than'], model: flags.model });
    if (!this.jsonEnabled()) this.log(`removed ${result.removed} answers from ${result.file}; ${result.remaining} left`);
    return result;
  }
}
