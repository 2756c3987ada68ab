import { Flags } from '@oclif/core';
import type { ExportResult } from '../../core/plugins/kinds/exporter.js';
import { precisionChoiceFileName, readPrecisionChoice } from '../../core/inference/precision-choice.js';
import { BaseCommand } from './base-command.js';

/** `distill export`: a trained checkpoint to an ONNX folder that Node and transformers.js run. */
export default class ExportCommand extends BaseCommand {
  static override summary = 'Export a trained T5 or causal-LM checkpoint to ONNX (transformers.js layout), optionally int8.';
  static override examples = [
    '<%= config.bin %> export --checkpoint runs/quickstart/stages/trainer/*/best --output out/model',
    '<%= config.bin %> export --checkpoint runs/quickstart/stages/trainer/*/best --output out/model --quantize --dataset esnli --root ../shared/data/dsbs --limit 500',
  ];
  static override flags = {
    checkpoint: Flags.string({
      description: 'Hugging Face checkpoint folder (config.json, model.safetensors, tokenizer).',
      required: true,
    }),
    output: Flags.string({ description: 'Folder to write the exported model into.', required: true }),
    quantize: Flags.boolean({ description: 'Also write int8 graphs (onnx/*_quantized.onnx).', default: false }),
    python: Flags.string({ description: 'Python interpreter (default $DISTILL_PYTHON or the project virtualenv).' }),
    dataset: Flags.string({
      description:
        "With --quantize: dsbs dataset or JSONL file to compare int8 with fp32 on; the comparison also sets the folder's default precision (int8 where it costs under half a point on at least 200 examples), so compare on a validation split.",
    }),
    split: Flags.string({ description: 'Split of the comparison dataset.', default: 'test' }),
    root: Flags.string({ description: 'The dsbs data folder (default $DISTILL_DSBS_DIR).' }),
    limit: Flags.integer({ description: 'Compare on the first N examples only.', min: 1 }),
  };

  async run(): Promise<ExportResult> {
    const { flags } = await this.parse(ExportCommand);
    const { exportStudent } = await import('../../plugins/composition-root.js');
    const result = await exportStudent({
      checkpoint: flags.checkpoint,
      output: flags.output,
      quantize: flags.quantize,
      ...(flags.python ? { python: flags.python } : {}),
      ...(flags.dataset
        ? {
            comparison: {
              dataset: flags.dataset,
              split: flags.split,
              // A named dataset scores with its own metric; a JSONL file by exact match.
              metric: 'exact-match',
              ...(flags.root ? { root: flags.root } : {}),
              ...(flags.limit ? { limit: flags.limit } : {}),
            },
          }
        : {}),
      onEvent: (event) => {
        if (!this.jsonEnabled() && event.type === 'export.progress') this.logToStderr(String(event.message));
      },
    });
    if (!this.jsonEnabled()) {
      this.log(`wrote ${result.files.length} files (${(result.bytes / 1e6).toFixed(1)} MB) to ${result.outputDirectory}`);
      const q = result.quantization;
      if (q) {
        this.log(
          `int8 ${q.metric} ${q.quantizedAccuracy.toFixed(4)} vs fp32 ${q.fullPrecisionAccuracy.toFixed(4)} on ${q.examples} examples; ` +
            `agreement ${(q.agreement * 100).toFixed(1)}%; size ${(q.quantizedBytes / 1e6).toFixed(1)} MB vs ${(q.fullPrecisionBytes / 1e6).toFixed(1)} MB`,
        );
      }
      const choice = readPrecisionChoice(result.outputDirectory);
      if (choice) this.log(`loads ${choice.default} by default (${precisionChoiceFileName}): ${choice.reason}`);
    }
    return result;
  }
}
