import path from 'node:path';
import { predictCommand } from '../inference/predict-command.js';
import { modelReadmeFile } from '../inference/model-readme.js';
import type { TestExample } from './stages/test-split.js';

/** Where a run's model is and how to try it: what every run that exported ends by printing. */
export interface RunModel {
  /** `<run folder>/model`: the current export, under a name that stays the same from run to run. */
  readonly directory: string;
  /** The export stage's own folder that `directory` mirrors. */
  readonly exported: string;
  /** The first test example, the input of the printed `distill predict` command. */
  readonly example: TestExample | null;
}

/** A path as a user in `workingDirectory` types it: relative when below it, absolute otherwise. */
export function displayedPath(file: string, workingDirectory: string): string {
  const relative = path.relative(workingDirectory, file);
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * The lines a run ends with: the model folder, and a `distill predict` command for a real test input
 * that runs as printed from `workingDirectory`.
 */
export function modelUsageLines(model: RunModel, workingDirectory: string): string[] {
  const folder = displayedPath(model.directory, workingDirectory);
  const lines = [`model: ${folder}  (the current export; how to use it: its ${modelReadmeFile})`];
  if (model.example) lines.push(`try it: ${predictCommand(folder, model.example.input)}`);
  return lines;
}
