import { Args } from '@oclif/core';
import { describePlugin, pluginDocumentation, type PluginDocumentation } from '../../core/plugins/describe-plugin.js';
import { findPlugins } from '../../core/plugins/find-plugin.js';
import { listPlugins, type PluginListing } from '../../core/plugins/list-plugins.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { BaseCommand } from './base-command.js';

/** `distill plugins [id]`: what can be named in a pipeline, and one plugin's full reference. */
export default class PluginsCommand extends BaseCommand {
  static override summary = 'List the plugins a pipeline can use, or print one plugin’s reference: options, types, defaults, an example.';
  static override description =
    'Without an id, lists every built-in plugin with its kind, version and option names (required ones marked *). With an id (or kind/id), prints the same reference as docs/plugins/<kind>-<id>.md.';
  static override examples = [
    '<%= config.bin %> plugins',
    '<%= config.bin %> plugins jsonl',
    '<%= config.bin %> plugins sampler/label-source',
    '<%= config.bin %> plugins --json',
  ];
  static override args = {
    id: Args.string({ description: 'A plugin id (jsonl, openai, …) or kind/id (dataset/csv).', required: false }),
  };

  async run(): Promise<PluginListing[] | PluginDocumentation[]> {
    const { args } = await this.parse(PluginsCommand);
    const registry = builtinRegistry();
    if (args.id !== undefined) {
      const descriptors = findPlugins(registry, args.id);
      if (!this.jsonEnabled()) this.log(descriptors.map(describePlugin).join('\n'));
      return descriptors.map(pluginDocumentation);
    }
    const listing = listPlugins(registry);
    if (!this.jsonEnabled()) {
      for (const plugin of listing) {
        this.log(`${plugin.kind.padEnd(12)} ${plugin.id.padEnd(20)} ${plugin.version.padEnd(8)} ${plugin.summary}`);
        if (plugin.options.length > 0) this.log(`${' '.repeat(42)}options: ${plugin.options.join(', ')}`);
      }
      this.log('\n`distill plugins <id>` prints one plugin’s options with types, defaults and an example.');
    }
    return listing;
  }
}
