import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { benchPath, pythonInterpreter } from './bench-paths.js';

/** The instruction-set flags that decide matrix-multiply speed, in the order a reader scans them. */
export const significantCpuFlags = [
  'avx2',
  'fma',
  'avx512f',
  'avx512_bf16',
  'avx512_vnni',
  'avx512_fp16',
  'amx_tile',
  'amx_bf16',
  'amx_int8',
];

/** What the operating system says about the CPU (Linux: `/proc/cpuinfo` and `lscpu`); null where it does not say. */
export interface CpuDescription {
  /** `model name` of `/proc/cpuinfo`, in full (a VM may report no more than the vendor's family name). */
  readonly model_name: string | null;
  /** lscpu's `Model name`, where lscpu exists. */
  readonly lscpu_model_name: string | null;
  readonly vendor: string | null;
  /** CPU family, model and stepping numbers: they name the microarchitecture where the model name does not (AMD family 25 with AVX-512: Zen 4). */
  readonly family: number | null;
  readonly model: number | null;
  readonly stepping: number | null;
  readonly microcode: string | null;
  /** Those of {@link significantCpuFlags} the CPU has. */
  readonly flags: readonly string[];
  readonly logical_cores: number;
  /** Distinct (physical id, core id) pairs of `/proc/cpuinfo`. */
  readonly physical_cores: number | null;
  /** lscpu's `CPU max MHz`, else cpufreq's maximum; many VMs report neither. */
  readonly max_mhz: number | null;
  /** The clock one busy core runs at, measured (`bench/trainer/matmul_peak.py --ceiling`: a chain of dependent adds, one per cycle). */
  readonly measured_mhz: number | null;
  /** `cpu MHz` of `/proc/cpuinfo`: in a VM usually the nominal (TSC) clock, below a boosting core's. */
  readonly nominal_mhz: number | null;
  /** lscpu's `Hypervisor vendor` (KVM, …): a VM shares its host's cores. */
  readonly hypervisor: string | null;
}

/** The machine a result was measured on, written into every result file. */
export interface MachineInfo {
  /** The full CPU model string ({@link CpuDescription.model_name}, else Node's). */
  readonly cpu_model: string;
  /** Logical cores the operating system reports. */
  readonly cores: number;
  /** Absent from results written before issue 18. */
  readonly cpu?: CpuDescription;
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

/** The last line a Python program prints, parsed as JSON, or null when it failed. */
function askPythonJson(arguments_: readonly string[]): unknown {
  const probe = spawnSync(pythonInterpreter, arguments_, { encoding: 'utf8', timeout: 120_000 });
  if (probe.status !== 0) return null;
  try {
    return JSON.parse(probe.stdout.trim().split('\n').at(-1) ?? '') as unknown;
  } catch {
    return null;
  }
}

function askPython(): PythonVersions | null {
  const program =
    'import json, sys, torch, transformers; print(json.dumps({"python": sys.version.split()[0], "torch": torch.__version__, "transformers": transformers.__version__}))';
  return askPythonJson(['-c', program]) as PythonVersions | null;
}

/** Every processor's `name: value` fields of `/proc/cpuinfo`; empty off Linux. */
function readCpuinfo(): Record<string, string>[] {
  let text: string;
  try {
    text = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return [];
  }
  return text
    .split(/\n\s*\n/)
    .filter((block) => block.trim())
    .map((block) =>
      Object.fromEntries(
        block.split('\n').map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
        }),
      ),
    );
}

/** lscpu's `name: value` lines; empty where lscpu is missing. */
function readLscpu(): Record<string, string> {
  const listing = spawnSync('lscpu', [], { encoding: 'utf8', timeout: 10_000 });
  if (listing.status !== 0) return {};
  return Object.fromEntries(
    listing.stdout.split('\n').flatMap((line) => {
      const colon = line.indexOf(':');
      return colon < 0 ? [] : [[line.slice(0, colon).trim(), line.slice(colon + 1).trim()]];
    }),
  );
}

function readCpufreqMaxMhz(): number | null {
  try {
    return Number(readFileSync('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq', 'utf8').trim()) / 1000;
  } catch {
    return null;
  }
}

function numberOrNull(text: string | undefined): number | null {
  if (text === undefined || text.trim() === '') return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : null;
}

/** Describes the CPU from `/proc/cpuinfo`, `lscpu`, cpufreq and the measured clock of one busy core. */
export function describeCpu(): CpuDescription {
  const processors = readCpuinfo();
  const first = processors[0] ?? {};
  const lscpu = readLscpu();
  const present = new Set((first.flags ?? lscpu.Flags ?? '').split(/\s+/));
  const coreIds = new Set(
    processors.filter((fields) => fields['core id'] !== undefined).map((fields) => `${fields['physical id'] ?? 0}/${fields['core id']}`),
  );
  const perSocket = numberOrNull(lscpu['Core(s) per socket']);
  const sockets = numberOrNull(lscpu['Socket(s)']);
  const ceiling = askPythonJson([benchPath('trainer', 'matmul_peak.py'), '--ceiling']) as {
    clock_source: { measured_mhz: number | null };
  } | null;
  return {
    model_name: first['model name'] ?? null,
    lscpu_model_name: lscpu['Model name'] ?? null,
    vendor: first.vendor_id ?? lscpu['Vendor ID'] ?? null,
    family: numberOrNull(first['cpu family'] ?? lscpu['CPU family']),
    model: numberOrNull(first.model ?? lscpu.Model),
    stepping: numberOrNull(first.stepping ?? lscpu.Stepping),
    microcode: first.microcode ?? null,
    flags: significantCpuFlags.filter((flag) => present.has(flag)),
    logical_cores: os.cpus().length,
    physical_cores: coreIds.size > 0 ? coreIds.size : perSocket !== null && sockets !== null ? perSocket * sockets : null,
    max_mhz: numberOrNull(lscpu['CPU max MHz']) ?? readCpufreqMaxMhz(),
    measured_mhz: ceiling === null || ceiling.clock_source.measured_mhz === null ? null : Math.round(ceiling.clock_source.measured_mhz),
    nominal_mhz: numberOrNull(first['cpu MHz']),
    hypervisor: lscpu['Hypervisor vendor'] ?? null,
  };
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
  const cpu = describeCpu();
  cached = {
    cpu_model: cpu.model_name ?? os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    cpu,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: python?.python ?? null,
    torch: python?.torch ?? null,
    transformers: python?.transformers ?? null,
  };
  return cached;
}
