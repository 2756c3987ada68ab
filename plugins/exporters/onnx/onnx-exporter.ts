import type { ExporterDescriptor } from '../../../core/plugins/kinds/exporter.js';
import type { OnnxExporterOptions } from './onnx-exporter-options.js';

/**
 * The `onnx` exporter: writes the chosen checkpoint as a transformers.js / onnxruntime folder, checked
 * against PyTorch before it returns. A T5 student becomes `onnx/encoder_model.onnx` and
 * `onnx/decoder_model_merged.onnx` (docs/onnx-layout.md); a causal-LM student (llama, qwen2, qwen3, gemma3_text, with
 * its `distill-student.json`) becomes `onnx/model.onnx` with its key/value cache (docs/decoder-students.md).
 */
export const onnxExporter: ExporterDescriptor<OnnxExporterOptions> = {
  id: 'onnx',
  kind: 'exporter',
  // 1.1.0: causal-LM graphs take `num_logits_to_keep` (docs/decoder-students.md).
  version: '1.1.0',
  summary: 'Export the student to ONNX (transformers.js layout, KV cache), optionally int8-quantised.',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      quantize: {
        type: 'boolean',
        default: false,
        description: 'Also write int8 dynamically quantised graphs and compare their accuracy.',
      },
      opset: { type: 'integer', minimum: 14, maximum: 21, default: 14, description: 'ONNX opset version.' },
      python: { type: 'string', description: 'Python interpreter with torch, transformers, onnx and onnxruntime.' },
      threads: { type: 'integer', minimum: 1, default: 1, description: 'torch threads while exporting.' },
    },
  },
  exampleOptions: { quantize: false },
  precisionFix: (options, precision) =>
    precision === 'int8' && options.quantize !== true ? 'set export.options.quantize: true, so that the int8 graphs are written' : null,
  async create(options, dependencies) {
    const { createOnnxExporter } = await import('./create-onnx-exporter.js');
    return createOnnxExporter(options, dependencies);
  },
};
