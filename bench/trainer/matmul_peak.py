"""The machine's matrix-multiply peak (``torch.mm`` of square matrices on N threads) and the ceiling it must stay under.

    python matmul_peak.py --threads 2 [--size 2048] [--seconds 3] [--dtype float32|bfloat16]
    python matmul_peak.py --ceiling

The first form prints one JSON line: the best and the median GFLOP/s of the timed repetitions, the
CPU seconds the process spent per wall second while timing (more than ``--threads`` would mean
threads this script did not ask for), and the kernel torch ran, as MKL's or oneDNN's verbose mode
names it. Run as its own process, with the same thread settings as the training runs, so that the
achieved GFLOP/s of a training run can be read as a share of what this machine's BLAS reaches.

The second prints the hardware ceiling (:func:`ceiling`): cores × clock × FLOPs per cycle of the
instruction set the CPU reports. A measured peak above it is an error of measurement (a clock that
is not the CPU's, threads not counted, another machine), and the benchmark refuses it.
"""

import argparse
import ctypes
import json
import mmap
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

# FLOPs one core issues per cycle in fp32 (fused multiply-adds: two FLOPs per lane), by vector
# datapath: two FMA pipes of the widest vector the core executes natively. Zen 4 (AMD family 0x19 with
# AVX-512) runs 512-bit instructions on 256-bit pipes; Zen 5 (family 0x1A) and Intel's AVX-512 cores
# have two 512-bit FMA pipes (a few Intel parts have one: the ceiling is an upper bound, so the wider).
FP32_FLOPS_PER_CYCLE = {"avx512-full": 64, "avx512-on-256": 32, "avx2-fma": 32, "avx": 16, "sse": 8}
# AMX (Sapphire Rapids and later): 1024 bf16 FLOPs per cycle per core in the tile unit.
AMX_BF16_FLOPS_PER_CYCLE = 1024


def cpu_description():
    """Vendor, family, model name, flags and clock figures from /proc/cpuinfo and ``lscpu``."""
    processors = [{}]
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    processors.append({})
                    continue
                name, _, value = line.partition(":")
                processors[-1][name.strip()] = value.strip()
    except OSError:
        pass
    fields = processors[0]  # the first processor describes them all: every core of a machine is alike here
    # Two hardware threads of one core share its vector pipes: the ceiling counts cores, not threads.
    cores = {(processor.get("physical id"), processor.get("core id")) for processor in processors if "core id" in processor}
    lscpu_max_mhz = None
    try:
        listing = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10, check=False).stdout
        match = re.search(r"^CPU max MHz:\s*([\d.]+)", listing, re.MULTILINE)
        lscpu_max_mhz = float(match.group(1)) if match else None
    except (OSError, subprocess.SubprocessError):
        pass
    cpufreq_max_mhz = None
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", encoding="utf-8") as handle:
            cpufreq_max_mhz = int(handle.read().strip()) / 1000
    except (OSError, ValueError):
        pass
    return {
        "vendor": fields.get("vendor_id"),
        "family": int(fields["cpu family"]) if fields.get("cpu family", "").isdigit() else None,
        "model_name": fields.get("model name"),
        "flags": fields.get("flags", "").split(),
        "nominal_mhz": float(fields["cpu MHz"]) if "cpu MHz" in fields else None,
        "physical_cores": len(cores) or None,
        "lscpu_max_mhz": lscpu_max_mhz,
        "cpufreq_max_mhz": cpufreq_max_mhz,
    }


def _executable(code):
    """A callable ``uint64 f(uint64)`` from x86-64 machine code, in an executable anonymous mapping."""
    buffer = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    buffer.write(code)
    function = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_uint64)(ctypes.addressof(ctypes.c_char.from_buffer(buffer)))
    return function, buffer


def measured_clock_mhz(samples=40):
    """The core clock, measured: a chain of dependent register adds retires one add per cycle on every x86-64 core.

    lscpu gives no maximum clock in many VMs, and /proc/cpuinfo's ``cpu MHz`` is the nominal (TSC)
    clock, below what a boosting core runs at. The loop body is 100 × ``add rax, rdx`` (each needs the
    previous result: one cycle of latency, nothing to overlap) and ``dec rdi; jnz``; the best of
    `samples` short runs after a warm-up (the core ramps up its clock) is the clock. None off x86-64
    or where an executable mapping is refused.
    """
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    adds = 100
    loop = b"\x48\x01\xd0" * adds + b"\x48\xff\xcf"  # add rax, rdx (×100); dec rdi
    code = (
        b"\x48\x31\xc0\xba\x01\x00\x00\x00"  # xor rax, rax; mov edx, 1
        + loop
        + b"\x0f\x85"
        + (-(len(loop) + 6)).to_bytes(4, "little", signed=True)  # jnz back to the loop's start
        + b"\xc3"  # ret: rax = iterations × adds
    )
    try:
        function, buffer = _executable(code)
    except (OSError, ValueError, PermissionError):
        return None
    iterations = 100_000
    if function(10) != 10 * adds:
        return None
    deadline = time.perf_counter() + 0.3
    while time.perf_counter() < deadline:
        function(iterations)
    best = 0.0
    for _ in range(samples):
        started = time.perf_counter()
        function(iterations)
        best = max(best, iterations * adds / (time.perf_counter() - started))
    del function
    buffer.close()
    return best / 1e6


def vector_datapath(cpu):
    """The key of :data:`FP32_FLOPS_PER_CYCLE` for this CPU's flags and vendor."""
    flags = set(cpu["flags"])
    if "avx512f" in flags:
        if cpu["vendor"] == "AuthenticAMD" and cpu["family"] is not None and cpu["family"] < 0x1A:
            return "avx512-on-256"
        return "avx512-full"
    if "avx2" in flags and "fma" in flags:
        return "avx2-fma"
    return "avx" if "avx" in flags else "sse"


def ceiling(logical_cores):
    """Clock × FLOPs per cycle of one core, for fp32 and bf16, with how each factor was found; × cores for all.

    `cores` is the physical cores (from /proc/cpuinfo; `logical_cores` where it does not say): N threads
    reach at most min(N, cores) × the per-core figure.

    The clock is the highest of lscpu's maximum, cpufreq's maximum and the measured clock (one core
    busy: the single-core boost, so cores × clock is an upper bound with every core busy). bf16 is
    twice fp32 where the CPU has AVX512-BF16 (``vdpbf16ps``: a dot product of two pairs per 32-bit
    lane, four FLOPs where an FMA does two), the AMX tile rate where it has AMX-BF16, and the fp32 rate
    otherwise (torch then computes bf16 in fp32).
    """
    cpu = cpu_description()
    cores = cpu["physical_cores"] or logical_cores
    measured = measured_clock_mhz()
    candidates = [value for value in (cpu["lscpu_max_mhz"], cpu["cpufreq_max_mhz"], measured) if value]
    if not candidates:
        candidates = [cpu["nominal_mhz"]] if cpu["nominal_mhz"] else []
    clock = max(candidates) if candidates else None
    datapath = vector_datapath(cpu)
    fp32 = FP32_FLOPS_PER_CYCLE[datapath]
    flags = set(cpu["flags"])
    if "amx_bf16" in flags:
        bf16, bf16_instruction = AMX_BF16_FLOPS_PER_CYCLE, "amx_bf16 (tile multiply)"
    elif "avx512_bf16" in flags:
        bf16, bf16_instruction = 2 * fp32, "avx512_bf16 (vdpbf16ps)"
    else:
        bf16, bf16_instruction = fp32, "none: bf16 computed in fp32"
    per_core = {"float32": fp32, "bfloat16": bf16}
    return {
        "cores": cores,
        "clock_mhz": clock,
        "clock_source": {
            "lscpu_max_mhz": cpu["lscpu_max_mhz"],
            "cpufreq_max_mhz": cpu["cpufreq_max_mhz"],
            "measured_mhz": measured,
            "nominal_mhz": cpu["nominal_mhz"],
        },
        "vector_datapath": datapath,
        "bf16_instruction": bf16_instruction,
        "flops_per_cycle_per_core": per_core,
        "gflops_per_core": {dtype: None if clock is None else clock * 1e6 * flops / 1e9 for dtype, flops in per_core.items()},
    }


def kernel_name(left, right):
    """The kernel one ``torch.mm`` runs, from MKL's and oneDNN's verbose lines (written to fd 1, caught here)."""
    import torch

    sys.stdout.flush()
    saved = os.dup(1)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 1)
        try:
            with torch.backends.mkldnn.verbose(torch.backends.mkldnn.VERBOSE_ON), torch.backends.mkl.verbose(1):
                torch.mm(left, right)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", errors="replace")
    mkl = re.search(r"^MKL_VERBOSE (oneMKL [^,]*?) Product", text, re.MULTILINE)
    mkl_call = re.search(r"^MKL_VERBOSE (\w+)\(", text, re.MULTILINE)
    if mkl_call:
        return f"MKL {mkl_call.group(1)}" + (f" ({mkl.group(1)})" if mkl else "")
    onednn = re.search(r"^onednn_verbose,[^\n]*,exec,cpu,matmul,([^,]+),", text, re.MULTILINE)
    version = re.search(r"oneDNN (v[\d.]+)", text)
    if onednn:
        return f"oneDNN {onednn.group(1)}" + (f" ({version.group(1)})" if version else "")
    return "unknown (neither MKL nor oneDNN reported a call)"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--seconds", type=float, default=3.0, help="time spent measuring, after warm-up")
    parser.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    parser.add_argument("--ceiling", action="store_true", help="print the hardware ceiling of this machine instead")
    arguments = parser.parse_args()
    if arguments.ceiling:
        print(json.dumps(ceiling(os.cpu_count())))
        return
    if arguments.threads is None:
        parser.error("--threads is required to measure")
    import torch

    torch.set_num_threads(arguments.threads)
    size = arguments.size
    dtype = getattr(torch, arguments.dtype)
    left = torch.randn(size, size, dtype=dtype)
    right = torch.randn(size, size, dtype=dtype)
    output = torch.empty(size, size, dtype=dtype)
    for _ in range(3):  # warm-up: thread pool start, page faults, BLAS kernel selection
        torch.mm(left, right, out=output)
    kernel = kernel_name(left, right)
    flops = 2 * size**3  # one multiply and one add per term of every output element, whatever the dtype
    rates = []
    deadline = time.perf_counter() + arguments.seconds
    wall_started, cpu_started = time.perf_counter(), time.process_time()
    while time.perf_counter() < deadline or len(rates) < 3:
        started = time.perf_counter()
        torch.mm(left, right, out=output)
        rates.append(flops / (time.perf_counter() - started))
    cpu_per_wall = (time.process_time() - cpu_started) / (time.perf_counter() - wall_started)
    print(
        json.dumps(
            {
                "threads": torch.get_num_threads(),
                "dtype": arguments.dtype,
                "size": size,
                "kernel": kernel,
                "repetitions": len(rates),
                "gflops": max(rates) / 1e9,
                "median_gflops": statistics.median(rates) / 1e9,
                "cpu_seconds_per_wall_second": cpu_per_wall,
            }
        )
    )


if __name__ == "__main__":
    main()
