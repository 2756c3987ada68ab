import { benchPath, pythonInterpreter } from '../support/bench-paths.js';
import { round3 } from '../support/latency-statistics.js';
import { lastJsonLine, runProcess } from './child-process.js';
import { inferenceEnvironment } from './thread-policy.js';

/** What this machine reaches at best on the benches' threads, each measured in a child of its own. */
export interface MachineCeilings {
  readonly threads: number;
  /** fp32 `torch.mm` of 2048² matrices, best repetition (`bench/trainer/matmul_peak.py`). */
  readonly matmul_fp32_gflops: number;
  readonly matmul_kernel: string;
  /** Bytes read plus written per second by a 256 MiB copy (`bench/inference/memory_bandwidth.py`). */
  readonly memory_gigabytes_per_second: number;
  readonly bandwidth_kernel: string;
}

/** A lower bound on a time: the FLOPs at the matmul peak, and the bytes read at the copy bandwidth. */
export interface Floor {
  readonly compute_ms: number;
  readonly memory_ms: number;
}

/** Measures the fp32 matmul peak and the memory bandwidth on `threads` threads, one child each. */
export async function measureCeilings(threads: number): Promise<MachineCeilings> {
  const environment = inferenceEnvironment(threads);
  const matmul = lastJsonLine(
    await runProcess(
      pythonInterpreter,
      [benchPath('trainer', 'matmul_peak.py'), '--threads', String(threads), '--seconds', '2', '--dtype', 'float32'],
      environment,
    ),
  ) as { gflops: number; size: number };
  const copy = lastJsonLine(
    await runProcess(pythonInterpreter, [benchPath('inference', 'memory_bandwidth.py'), '--threads', String(threads)], environment),
  ) as { gigabytes_per_second: number; kernel: string; mebibytes: number };
  return {
    threads,
    matmul_fp32_gflops: round3(matmul.gflops),
    matmul_kernel: `fp32 torch.mm ${matmul.size}×${matmul.size}, best of the repetitions of 2 s (bench/trainer/matmul_peak.py), measured by this bench`,
    memory_gigabytes_per_second: round3(copy.gigabytes_per_second),
    bandwidth_kernel: `${copy.kernel}, ${copy.mebibytes} MiB, best of 10 (bench/inference/memory_bandwidth.py)`,
  };
}

/** The floor of work of `flops` FLOPs that reads `bytes` bytes of weights. */
export function floor(ceilings: MachineCeilings, flops: number, bytes: number): Floor {
  return {
    compute_ms: round3((flops / (ceilings.matmul_fp32_gflops * 1e9)) * 1000),
    memory_ms: round3((bytes / (ceilings.memory_gigabytes_per_second * 1e9)) * 1000),
  };
}
