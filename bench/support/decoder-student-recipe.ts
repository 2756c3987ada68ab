import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { BenchMode } from './result-file.js';
import { repositoryRoot } from './bench-paths.js';

/** The SmolLM2-135M student recipe every pretrained bench starts from (`pipelines/shared/smollm2-student.yaml`). */
export const smollm2RecipeFile = path.join(repositoryRoot, 'pipelines', 'shared', 'smollm2-student.yaml');

/** The shared base recipe the SmolLM2 recipe extends; smoke pipelines extend it directly (they have no pretrained model). */
export const baseRecipeFile = path.join(repositoryRoot, 'pipelines', 'shared', 'base.yaml');

/** The offline quickstart (`pipelines/quickstart.yaml`): the e-SNLI recipe of the SmolLM2 student. */
export const quickstartFile = path.join(repositoryRoot, 'pipelines', 'quickstart.yaml');

/**
 * The tiny random-init Llama that stands in for SmolLM2-135M in `--smoke` runs: the same code paths
 * (causal-LM training, export, Node decoding) in seconds, with numbers that mean nothing.
 */
export const smokeDecoderStudent = {
  family: 'causal-lm',
  config: { hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1 },
  tokenizer: { type: 'bpe', vocab_size: 400 },
} as const;

/** A pipeline or recipe file as plain data (a pipeline key to its value). */
export type RecipeDocument = Record<string, unknown>;

/** Reads a recipe of the repository as plain data (they are ours: no `${VAR}` is filled here). */
export function readRecipe(file: string): RecipeDocument {
  return parse(readFileSync(file, 'utf8')) as RecipeDocument;
}

/** The `student` block of a recipe (an empty one when it has none). */
export function studentBlock(recipe: RecipeDocument): Record<string, unknown> {
  return { ...((recipe.student as Record<string, unknown> | undefined) ?? {}) };
}

/** The `trainer.options` block of a recipe (an empty one when it has none). */
export function trainerOptions(recipe: RecipeDocument): Record<string, unknown> {
  return { ...(recipe.trainer as { options?: Record<string, unknown> } | undefined)?.options };
}

/**
 * What a bench pipeline extends and the student block it starts from: the SmolLM2 recipe as written,
 * or, in smoke mode, the base recipe with the SmolLM2 recipe's student block (its prompt and targets)
 * turned into {@link smokeDecoderStudent} (`extends` cannot take a key away, so the smoke pipeline
 * cannot extend a recipe that names a pretrained model).
 */
export function decoderStudentStart(mode: BenchMode): { extends: string; student: Record<string, unknown> } {
  if (mode !== 'smoke') return { extends: smollm2RecipeFile, student: {} };
  const student = studentBlock(readRecipe(smollm2RecipeFile));
  delete student.pretrained;
  return { extends: baseRecipeFile, student: { ...student, ...smokeDecoderStudent } };
}
