import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadAverage, machineInfo, type MachineInfo } from './machine-info.js';
import { resultsDirectory } from './bench-paths.js';
import { BenchUsageError } from './bench-context.js';

/**
 * `quick` for `npm run bench`, `full` for `npm run bench:full`; `smoke` (`-- --smoke`) runs every
 * bench with tiny settings in seconds, to check that the benches still run, not to measure.
 */
export type BenchMode = 'smoke' | 'quick' | 'full';

/** What every `bench/results/<bench>.json` holds. */
export interface BenchResult<Settings, Results> {
  readonly bench: string;
  /** What the bench measures, in one sentence. */
  readonly measures: string;
  readonly mode: BenchMode;
  /** ISO date and time the bench started. */
  readonly started_at: string;
  readonly seconds: number;
  /** The command that produced this file. */
  readonly command: string;
  readonly machine: MachineInfo;
  /** One-, five- and fifteen-minute load averages when the bench started: other work skews timings. */
  readonly load_average_at_start: readonly number[];
  readonly load_average_at_end: readonly number[];
  readonly settings: Settings;
  readonly results: Results;
}

/** The command line that started this run, as a reader would retype it. */
export function invocationCommand(): string {
  const script = process.env.npm_lifecycle_event;
  const extra = process.argv.slice(2).join(' ');
  if (script) return `npm run ${script}${extra && !process.env.npm_lifecycle_script?.includes(extra) ? ` -- ${extra}` : ''}`;
  return ['node', ...process.argv.slice(1).map((argument) => path.relative(process.cwd(), argument) || argument)].join(' ');
}

/**
 * The result file of a bench in a mode: `<bench>.json` for quick and smoke runs, `<bench>.full.json`
 * for full runs, so that `npm run bench` never replaces the hours of a full grid.
 */
export function benchResultFile(bench: string, mode: BenchMode, directory: string = resultsDirectory): string {
  return path.join(directory, mode === 'full' ? `${bench}.full.json` : `${bench}.json`);
}

/** The result a bench last wrote in a mode, or null when there is none. */
export function readBenchResult<Settings, Results>(
  bench: string,
  mode: BenchMode,
  directory: string = resultsDirectory,
): BenchResult<Settings, Results> | null {
  const file = benchResultFile(bench, mode, directory);
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as BenchResult<Settings, Results>;
  } catch (error) {
    throw new BenchUsageError(
      `${file} is not JSON (${(error as Error).message}); restore it with git checkout, or delete it to run the bench afresh`,
    );
  }
}

/**
 * Writes the bench's result file for its mode (`benchResultFile`) through a temporary file and a
 * rename, so a killed run leaves the previous result whole. Returns the file's path.
 */
export function writeBenchResult<Settings, Results>(
  result: Omit<BenchResult<Settings, Results>, 'machine' | 'command' | 'load_average_at_end'>,
  directory: string = resultsDirectory,
): string {
  mkdirSync(directory, { recursive: true });
  const full: BenchResult<Settings, Results> = {
    ...result,
    command: invocationCommand(),
    machine: machineInfo(),
    load_average_at_end: loadAverage(),
  };
  const file = benchResultFile(result.bench, result.mode, directory);
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(full, null, 2) + '\n');
  renameSync(temporary, file);
  return file;
}
