import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../errors/user-error.js';
import { parseDecoderStudentDescriptor, studentDescriptorFile, type DecoderStudentDescriptor } from './decoder-student-descriptor.js';

/** Which ONNX graphs to load: full precision or the int8 (`_quantized`) pair written by `--quantize`. */
export type StudentPrecision = 'fp32' | 'int8';

/** What inference needs from an exported T5 student folder (the transformers.js layout). */
export interface T5StudentFolder {
  readonly family: 't5';
  readonly directory: string;
  readonly encoderPath: string;
  readonly decoderPath: string;
  /** Parsed `tokenizer.json`. */
  readonly tokenizer: Record<string, unknown>;
  /** Parsed `tokenizer_config.json`. */
  readonly tokenizerConfig: Record<string, unknown>;
  readonly decoderLayers: number;
  readonly heads: number;
  readonly headSize: number;
  readonly decoderStartTokenId: number;
  readonly eosTokenId: number;
  readonly padTokenId: number;
  /** Longest input the student was trained on (`tokenizer_config.json` `model_max_length`), when it says. */
  readonly maxInputTokens: number | null;
  /** Generation length the student was evaluated with (`generation_config.json` `max_new_tokens`), when it says. */
  readonly maxNewTokens: number | null;
}

/** What inference needs from an exported causal-LM student folder (docs/decoder-students.md). */
export interface CausalLmStudentFolder {
  readonly family: 'causal-lm';
  readonly directory: string;
  /** `onnx/model.onnx` or its int8 twin. */
  readonly modelPath: string;
  readonly tokenizer: Record<string, unknown>;
  readonly tokenizerConfig: Record<string, unknown>;
  /** `distill-student.json`: prompt, targets, labels, lengths, end and padding tokens. */
  readonly descriptor: DecoderStudentDescriptor;
  readonly layers: number;
  readonly keyValueHeads: number;
  readonly headSize: number;
}

/** An exported student of either family; `family` tells which. */
export type StudentFolder = T5StudentFolder | CausalLmStudentFolder;

/** The causal-LM model types the exporter writes (`config.json` `model_type`). */
export const causalLmModelTypes = ['llama', 'qwen2', 'qwen3', 'gemma3_text'];

/** The file names of an exported student, relative to its folder; `_quantized` is transformers.js' name for q8. */
export function onnxFileNames(precision: StudentPrecision): { encoder: string; decoder: string } {
  const suffix = precision === 'int8' ? '_quantized' : '';
  return { encoder: `onnx/encoder_model${suffix}.onnx`, decoder: `onnx/decoder_model_merged${suffix}.onnx` };
}

/** The graph of an exported causal-LM student, relative to its folder. */
export function causalLmFileName(precision: StudentPrecision): string {
  return `onnx/model${precision === 'int8' ? '_quantized' : ''}.onnx`;
}

/** Whether a folder holds the graphs of one precision, of either family (`int8`: what `--quantize` writes). */
export function holdsGraphs(directory: string, precision: StudentPrecision): boolean {
  return (
    existsSync(path.join(directory, onnxFileNames(precision).encoder)) || existsSync(path.join(directory, causalLmFileName(precision)))
  );
}

/** Whether a folder holds an exported student of either family (its fp32 graphs, or an int8-only export). */
export function holdsExportedStudent(directory: string): boolean {
  return holdsGraphs(directory, 'fp32') || holdsGraphs(directory, 'int8');
}

function readJson(file: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new UserError({
      message: `${file} is not valid JSON: ${(error as Error).message}`,
      fix: 'export the student again with `distill export`',
    });
  }
}

function integer(value: unknown): number | undefined {
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'number' && Number.isInteger(first) ? first : undefined;
}

/** The fix of every folder error: the command that writes a folder. */
function exportFixFor(precision: StudentPrecision): string {
  return 'pass a folder written by `distill export --checkpoint <dir> --output <dir>`' + (precision === 'int8' ? ' with `--quantize`' : '');
}

/**
 * Checks an exported student folder and reads what decoding needs. The family is the one
 * `distill-student.json` names (a folder without it is a T5 student). Every missing file is named in
 * one {@link UserError}, with the command that writes them, so a wrong `--model` fails at start
 * rather than at the first request.
 */
export function readStudentFolder(directory: string, precision: StudentPrecision = 'fp32'): StudentFolder {
  const absolute = path.resolve(directory);
  if (!existsSync(absolute) || !statSync(absolute).isDirectory()) {
    throw new UserError({ message: `model folder ${absolute} does not exist`, fix: exportFixFor(precision) });
  }
  const descriptorPath = path.join(absolute, studentDescriptorFile);
  if (existsSync(descriptorPath)) {
    return readCausalLmFolder(absolute, parseDecoderStudentDescriptor(readJson(descriptorPath), descriptorPath), precision);
  }
  return readT5Folder(absolute, precision);
}

/** Names every missing file of a folder in one {@link UserError}. */
function requireFiles(absolute: string, required: readonly string[], precision: StudentPrecision): void {
  const missing = required.filter((name) => !existsSync(path.join(absolute, name)));
  if (missing.length > 0) {
    throw new UserError({ message: `model folder ${absolute} lacks ${missing.join(', ')}`, fix: exportFixFor(precision) });
  }
}

/** A causal-LM folder: its graph, tokenizer, descriptor and the cache shape its config implies. */
function readCausalLmFolder(absolute: string, descriptor: DecoderStudentDescriptor, precision: StudentPrecision): CausalLmStudentFolder {
  const exportFix = exportFixFor(precision);
  const modelFile = causalLmFileName(precision);
  requireFiles(absolute, ['config.json', 'tokenizer.json', 'tokenizer_config.json', modelFile], precision);
  const config = readJson(path.join(absolute, 'config.json'));
  if (!causalLmModelTypes.includes(config.model_type as string)) {
    throw new UserError({
      message: `model folder ${absolute} holds a ${String(config.model_type)} model; distill's causal-LM students are ${causalLmModelTypes.join(', ')}`,
      fix: exportFix,
    });
  }
  const layers = integer(config.num_hidden_layers);
  const heads = integer(config.num_attention_heads);
  const hidden = integer(config.hidden_size);
  const keyValueHeads = integer(config.num_key_value_heads) ?? heads;
  const headSize = integer(config.head_dim) ?? (hidden !== undefined && heads !== undefined ? hidden / heads : undefined);
  if (layers === undefined || keyValueHeads === undefined || headSize === undefined || !Number.isInteger(headSize)) {
    throw new UserError({
      message: `${path.join(absolute, 'config.json')} lacks num_hidden_layers, num_key_value_heads or head_dim`,
      fix: exportFix,
    });
  }
  return {
    family: 'causal-lm',
    directory: absolute,
    modelPath: path.join(absolute, modelFile),
    tokenizer: readJson(path.join(absolute, 'tokenizer.json')),
    tokenizerConfig: readJson(path.join(absolute, 'tokenizer_config.json')),
    descriptor,
    layers,
    keyValueHeads,
    headSize,
  };
}

/** A T5 folder: its two graphs, tokenizer and what decoding needs of its config. */
function readT5Folder(absolute: string, precision: StudentPrecision): T5StudentFolder {
  const exportFix = exportFixFor(precision);
  const files = onnxFileNames(precision);
  requireFiles(absolute, ['config.json', 'tokenizer.json', 'tokenizer_config.json', files.encoder, files.decoder], precision);
  const config = readJson(path.join(absolute, 'config.json'));
  const generation = existsSync(path.join(absolute, 'generation_config.json'))
    ? readJson(path.join(absolute, 'generation_config.json'))
    : {};
  if (config.model_type !== 't5' && config.model_type !== 'mt5') {
    throw new UserError({
      message: `model folder ${absolute} holds a ${String(config.model_type)} model; a folder without ${studentDescriptorFile} must hold a T5 student`,
      fix: exportFix,
    });
  }
  const heads = integer(config.num_heads);
  const headSize = integer(config.d_kv);
  const decoderLayers = integer(config.num_decoder_layers) ?? integer(config.num_layers);
  if (heads === undefined || headSize === undefined || decoderLayers === undefined) {
    throw new UserError({
      message: `${path.join(absolute, 'config.json')} lacks num_heads, d_kv or num_layers`,
      fix: exportFix,
    });
  }
  const padTokenId = integer(generation.pad_token_id) ?? integer(config.pad_token_id) ?? 0;
  const tokenizerConfig = readJson(path.join(absolute, 'tokenizer_config.json'));
  // Hugging Face writes a huge sentinel (1e30, or 1e6 from older trainers) when no length was set.
  const modelMaxLength = integer(tokenizerConfig.model_max_length);
  return {
    family: 't5',
    directory: absolute,
    encoderPath: path.join(absolute, files.encoder),
    decoderPath: path.join(absolute, files.decoder),
    tokenizer: readJson(path.join(absolute, 'tokenizer.json')),
    tokenizerConfig,
    decoderLayers,
    heads,
    headSize,
    decoderStartTokenId: integer(generation.decoder_start_token_id) ?? integer(config.decoder_start_token_id) ?? padTokenId,
    eosTokenId: integer(generation.eos_token_id) ?? integer(config.eos_token_id) ?? 1,
    padTokenId,
    maxInputTokens: modelMaxLength !== undefined && modelMaxLength < 100_000 ? modelMaxLength : null,
    maxNewTokens: integer(generation.max_new_tokens) ?? null,
  };
}
