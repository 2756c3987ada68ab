import path from 'node:path';
import type { LoadedPipeline } from '../config/load-pipeline.js';

/** `<output.directory>/<name>` of a loaded pipeline: the run folder its stages and records are stored in. */
export function runDirectoryOf(loaded: LoadedPipeline): string {
  return path.resolve(loaded.baseDirectory, loaded.config.output.directory, loaded.config.name);
}
