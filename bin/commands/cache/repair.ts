import { Flags } from '@oclif/core';
import { repairCache, type CacheRepairResult } from '../../../core/teacher/cache-maintenance.js';
import { BaseCommand } from '../base-command.js';

/** `distill cache repair`. */
export default class CacheRepairCommand extends BaseCommand {
  static override summary = 'Rebuild a damaged teacher cache, keeping every answer that can still be read.';
  static override description =
    'Copies every readable answer into a new file, checks it, keeps the damaged original beside it as <file>.damaged-<time>, and puts the new file in its place. Refuses while another process has the cache open.';
  static override examples = ['<%= config.bin %> cache repair', '<%= config.bin %> cache repair --path ./my-cache.sqlite --json'];
  static override flags = {
    path: Flags.string({ description: 'Cache file (default: the shared cache).' }),
  };

  async run(): Promise<CacheRepairResult> {
    const { flags } = await this.parse(CacheRepairCommand);
    const result = repairCache({ path: flags.path, environment: process.env });
    if (!this.jsonEnabled()) {
      const kept =
        result.kept === 0 && result.lost === 0
          ? 'no answer could be read from it, so the new cache is empty'
          : `kept ${result.kept} answers, lost ${result.lost}`;
      this.log(`repaired ${result.file}: ${kept}`);
      this.log(`  the damaged original is kept at ${result.damagedFile}`);
    }
    return result;
  }
}
