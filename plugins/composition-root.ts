/**
 * The composition root: the one place that imports the built-in list and hands it to core. The CLI
 * (`bin/`) and the library entry (`plugins/index.ts`) call core with {@link builtinRegistry}; core
 * itself never imports a plugin, never names one, and never builds a registry of its own.
 */
import { exportStudent as exportWithRegistry, type ExportStudentRequest } from '../core/inference/export-student.js';
import type { ExportResult } from '../core/plugins/kinds/exporter.js';
import { PluginRegistry } from '../core/plugins/plugin-registry.js';
import { builtinDefaults, builtinPlugins } from './builtin-plugins.js';

export { builtinDefaults };

/**
 * A registry of the built-in plugins, with the default steps that name some of them. A fresh one
 * per call, since a registry can be added to (`register`): one caller's plugins never reach another's.
 */
export function builtinRegistry(): PluginRegistry {
  return new PluginRegistry(builtinPlugins, builtinDefaults);
}

/** What `distill export` asks for: its flags, which are options of the default (ONNX) exporter. */
export interface BuiltinExportRequest extends Omit<ExportStudentRequest, 'exporter'> {
  /** Also write int8 graphs, compared with fp32 on `comparison` when given. */
  readonly quantize?: boolean;
  /** Python interpreter (default: `$DISTILL_PYTHON`, else the project virtualenv). */
  readonly python?: string;
}

/**
 * `distill export` with the built-in default exporter: `quantize` and `python` become that
 * exporter's options, and the comparison examples are read only when quantising.
 */
export function exportStudent(request: BuiltinExportRequest): Promise<ExportResult> {
  const { quantize = false, python, comparison, ...rest } = request;
  const exporter = builtinDefaults.exporter;
  return exportWithRegistry(
    {
      ...rest,
      exporter: { use: exporter.use, options: { ...exporter.options, quantize, ...(python ? { python } : {}) } },
      ...(quantize && comparison ? { comparison } : {}),
    },
    builtinRegistry(),
  );
}
