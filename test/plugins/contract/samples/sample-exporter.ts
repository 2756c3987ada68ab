import type { Exporter } from '../../../../core/plugins/kinds/exporter.js';
import type { PluginDescriptor } from '../../../../core/plugins/plugin-descriptor.js';

/** Exports nothing. */
export const sampleExporter: PluginDescriptor<Record<string, never>, Exporter> = {
  id: 'sample-exporter',
  kind: 'exporter',
  version: '1.0.0',
  summary: 'Writes no files (contract sample).',
  optionsSchema: { type: 'object', additionalProperties: false, properties: {} },
  create: () => ({
    export: (request) => Promise.resolve({ outputDirectory: request.outputDirectory, files: [], bytes: 0 }),
  }),
};
