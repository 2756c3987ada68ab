import { listPlugins, type PluginListing } from '../../core/plugins/list-plugins.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { BaseCommand } from './base-command.js';

/** `distill plugins`: what can be named in a pipeline. */
export default class PluginsCommand extends BaseCommand {
  static override summary = 'List the plugins a pipeline can use: ids, kinds, versions and options.';
  static override examples = ['<%= config.bin %> plugins', '<%= config.bin %> plugins --json'];

  async run(): Promise<PluginListing[]> {
    await this.parse(PluginsCommand);
    const listing = listPlugins(builtinRegistry());
    if (!this.jsonEnabled()) {
      for (const plugin of listing) {
        this.log(`${plugin.kind.padEnd(12)} ${plugin.id.padEnd(20)} ${plugin.version.padEnd(8)} ${plugin.summary}`);
        if (plugin.options.length > 0) this.log(`${' '.repeat(42)}options: ${plugin.options.join(', ')}`);
      }
    }
    return listing;
  }
}
