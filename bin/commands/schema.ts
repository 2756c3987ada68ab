import { writeFile } from 'node:fs/promises';
import { Flags } from '@oclif/core';
import type { JsonSchema } from '../../core/plugins/json-schema.js';
import { BaseCommand } from './base-command.js';

/** `distill schema`: the JSON Schema editors validate pipelines with. */
export default class SchemaCommand extends BaseCommand {
  static override summary = 'Print the JSON Schema of a pipeline, including every plugin’s options.';
  static override description =
    'Point editors at it with a first line `# yaml-language-server: $schema=distill.schema.json` in a pipeline file.';
  static override examples = ['<%= config.bin %> schema > distill.schema.json', '<%= config.bin %> schema --output distill.schema.json'];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'Write the schema to this file instead of printing it.' }),
  };

  async run(): Promise<JsonSchema | { output: string }> {
    const { flags } = await this.parse(SchemaCommand);
    const [{ builtinRegistry }, { combinedSchema }] = await Promise.all([
      import('../../plugins/composition-root.js'),
      import('../../core/config/combined-schema.js'),
    ]);
    const schema = combinedSchema(builtinRegistry());
    const text = JSON.stringify(schema, null, 2) + '\n';
    if (flags.output) {
      await writeFile(flags.output, text);
      if (!this.jsonEnabled()) this.log(`wrote ${flags.output}`);
      return { output: flags.output };
    }
    if (!this.jsonEnabled()) process.stdout.write(text);
    return schema;
  }
}
