import type { Problem } from '../errors/problem.js';
import { isUserError } from '../errors/user-error.js';
import { loadPipeline, type LoadedPipeline, type LoadPipelineOptions } from './load-pipeline.js';
import { displayPath } from './source-map.js';

/** The verdict on one pipeline file, as `distill validate` reports it. */
export interface PipelineValidation {
  /** The file as given, shown relative to the working directory. */
  readonly file: string;
  readonly valid: boolean;
  /** Every problem found; empty when valid. */
  readonly problems: readonly Problem[];
}

/** Options of {@link validatePipelineFiles}. */
export interface ValidatePipelineFilesOptions extends LoadPipelineOptions {
  /**
   * A further check of each pipeline that loads (`distill validate --locked`: its recipes against
   * its run folder's lockfile); what it returns, or the {@link UserError} it throws, makes the file invalid.
   */
  readonly check?: (loaded: LoadedPipeline) => Promise<readonly Problem[]>;
}

/**
 * Loads and validates each pipeline file, collecting user mistakes per file instead of stopping at
 * the first bad one. Anything that is not a user mistake (a bug) is rethrown.
 */
export async function validatePipelineFiles(
  files: readonly string[],
  options: ValidatePipelineFilesOptions,
): Promise<PipelineValidation[]> {
  const results: PipelineValidation[] = [];
  for (const file of files) {
    try {
      const loaded = await loadPipeline(file, options);
      const problems = (await options.check?.(loaded)) ?? [];
      results.push({ file: displayPath(file), valid: problems.length === 0, problems });
    } catch (error) {
      if (!isUserError(error)) throw error;
      results.push({ file: displayPath(file), valid: false, problems: error.problems });
    }
  }
  return results;
}
