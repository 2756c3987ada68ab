import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { pythonInterpreter } from './bench-paths.js';

/** The machine a result was measured on, written into every result file. */
export interface MachineInfo {
  readonly cpu_model: string;
  /** Logical cores the operating system reports. */
  readonly cores: number;
  readonly memory_gib: number;
  readonly os: string;
  readonly node: string;
  /** Null fields when the Python environment could not be asked. */
  readonly python: string | null;
  readonly torch: string | null;
  readonly transformers: string | null;
}

interface PythonVersions {
  python: string;
  torch: string;
  transformers: string;
}

function askPython(): PythonVersions | null {
  const program =
    'import json, sys, torch, transformers; print(json.dumps({"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__}))';
  const probe = spawnSync(pythonInterpreter, ['-c', program], { encoding: 'utf8', timeout: 120_000 });
  if (probe.status !== 0) return null;
  try {
    return JSON.parse(probe.stdout.trim().split('\n').at(-1) ?? '') as PythonVersions;
  } catch {
    return null;
  }
}

let cached: MachineInfo | null = null;

/** One-, five- and fifteen-minute load averages, rounded: a busy machine skews timings. */
export function loadAverage(): number[] {
  return os.loadavg().map((value) => Math.round(value * 100) / 100);
}

/** Describes this machine (asked once per process: importing torch takes seconds). */
export function machineInfo(): MachineInfo {
  if (cached) return cached;
  const python = askPython();
  cached = {
    cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: python?.python ?? null,
    torch: python?.torch ?? null,
    transformers: python?.transformers ?? null,
  };
  return cached;
}
