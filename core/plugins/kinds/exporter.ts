import type { StudentPrecision } from '../../inference/student-folder.js';
import type { EventStream } from '../../services/event-stream.js';
import type { PluginDescriptor } from '../plugin-descriptor.js';

/** Version of the {@link Exporter} contract. */
export const exporterContractVersion = 1;

/** What to export and where. */
export interface ExportRequest {
  /** Hugging Face model folder of the chosen checkpoint. */
  readonly checkpointDirectory: string;
  /** Folder to write the exported model into. */
  readonly outputDirectory: string;
  /**
   * Labelled examples (usually the test split) on which an exporter that quantises measures the
   * quantised model's accuracy against full precision. Optional; added in contract version 1.
   */
  readonly comparison?: QuantizationComparisonRequest;
}

/** Examples and the metric for comparing a quantised export with full precision. */
export interface QuantizationComparisonRequest {
  /** Student inputs without the task prefix, with gold labels. */
  readonly examples: readonly { readonly input: string; readonly label: string }[];
  /** The evaluator's metric name (`exact-match`, `numeric-equality`). */
  readonly metric: string;
  /** 1 for a correct prediction, 0 otherwise (the pipeline's evaluator). */
  score(prediction: string, gold: string): number;
}

/** Accuracy of the quantised export against full precision on the same examples. */
export interface QuantizationComparison {
  readonly metric: string;
  readonly examples: number;
  readonly fullPrecisionAccuracy: number;
  readonly quantizedAccuracy: number;
  /** Share of examples where both precisions predict the same label. */
  readonly agreement: number;
  readonly fullPrecisionBytes: number;
  readonly quantizedBytes: number;
}

/** What an exporter wrote. */
export interface ExportResult {
  readonly outputDirectory: string;
  /** Relative paths of the files written. */
  readonly files: readonly string[];
  /** Total size on disk in bytes. */
  readonly bytes: number;
  /** Present when the exporter quantised and a comparison was requested. */
  readonly quantization?: QuantizationComparison;
}

/** Writes a deployable form of the student. */
export interface Exporter {
  export(request: ExportRequest, events: EventStream, signal: AbortSignal): Promise<ExportResult>;
}

/**
 * The descriptor of an exporter plugin: a {@link PluginDescriptor} that can say, before anything runs,
 * whether the folder it will write holds the graphs of a precision, so that a pipeline evaluating the
 * int8 graphs of an export that writes none is refused when it is validated.
 */
export interface ExporterDescriptor<Options = Record<string, unknown>> extends PluginDescriptor<Options, Exporter> {
  /**
   * Null when an export with these (validated) options writes the graphs of `precision`, else the fix
   * (which of its options to set). Optional; without it the pipeline's `evaluation.precision` is not
   * checked before the evaluate stage loads the folder.
   */
  precisionFix?(options: Options, precision: StudentPrecision): string | null;
}
