/** Options of the `onnx` exporter (the pipeline's `export.options`). */
export interface OnnxExporterOptions {
  /** Also write int8 dynamically quantised graphs (`onnx/*_quantized.onnx`, transformers.js' `q8`). */
  readonly quantize?: boolean;
  /** ONNX opset (default 14). */
  readonly opset?: number;
  /** Python interpreter with torch, transformers, onnx and onnxruntime (default: the project virtualenv). */
  readonly python?: string;
  /** torch threads while exporting (default 1). */
  readonly threads?: number;
}
