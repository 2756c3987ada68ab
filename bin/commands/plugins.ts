import { Args } from '@oclif/core';
import { describeOptions, type OptionDescription } from '../../core/plugins/describe-options.js';
import { describePlugin, exampleSnippet } from '../../core/plugins/describe-plugin.js';
import { findPlugins } from '../../core/plugins/find-plugin.js';
import { listPlugins, type PluginListing } from '../../core/plugins/list-plugins.js';
import { builtinRegistry } from '../../plugins/composition-root.js';
import { BaseCommand } from './base-command.js';

/** What `distill plugins <id> --json` returns for each plugin the name matches. */
export interface PluginReferenceJson {
  readonly kind: string;
  readonly id: string;
  readonly version: string;
  readonly summary: string;
  readonly description?: string;
  readonly options: OptionDescription[];
  /** A pipeline snippet using the plugin's example options. */
  readonly example: string;
}

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

  async run(): Promise<PluginListing[] | PluginReferenceJson[]> {
    const { args } = await this.parse(PluginsCommand);
    const registry = builtinRegistry();
    if (args.id !== undefined) {
      const descriptors = findPlugins(registry, args.id);
      if (!this.jsonEnabled()) this.log(descriptors.map(describePlugin).join('\n'));
      return descriptors.map((descriptor) => {
        const description = (descriptor.optionsSchema as { description?: unknown }).description;
        return {
          kind: descriptor.kind,
          id: descriptor.id,
          version: descriptor.version,
          summary: descriptor.summary,
          ...(typeof description === 'string' ? { description } : {}),
          options: describeOptions(descriptor.optionsSchema),
          example: exampleSnippet(descriptor),
        };
      });
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
