import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** One file of a package as `npm pack --json` lists it. */
export interface PackedFile {
  /** Path inside the package, `/`-separated. */
  readonly path: string;
  readonly size: number;
}

/** What `npm pack --json` reports for one package. */
export interface PackResult {
  /** The tarball's file name. */
  readonly filename: string;
  /** Bytes of the gzipped tarball. */
  readonly size: number;
  readonly unpackedSize: number;
  readonly entryCount: number;
  readonly files: readonly PackedFile[];
}

/**
 * `npm pack --json` of the package in `directory`: a dry run that only lists, or, given a
 * `destination` folder, the tarball written there (`path.join(destination, result.filename)`).
 * Offline, and without lifecycle scripts: `prepare` would rebuild `dist/` under the running tests.
 */
export function npmPack(directory: string, destination?: string): PackResult {
  const args = ['pack', '--json', '--offline', '--ignore-scripts', '--loglevel=error'];
  args.push(...(destination ? ['--pack-destination', destination] : ['--dry-run']));
  const packed = spawnSync('npm', args, { cwd: directory, encoding: 'utf8', timeout: 120_000 });
  if (packed.status !== 0) throw new Error(`npm ${args.join(' ')} failed in ${directory}:\n${packed.stderr}`);
  const [result] = JSON.parse(packed.stdout) as PackResult[];
  if (!result) throw new Error(`npm pack listed no package in ${directory}`);
  return result;
}

/** The path of the tarball a non-dry {@link npmPack} wrote. */
export function tarballPath(destination: string, result: PackResult): string {
  return path.join(destination, result.filename);
}
