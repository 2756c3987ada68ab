"""Whether idle OpenMP threads spin or sleep between operators: chosen before torch loads OpenMP.

A small student runs thousands of small parallel operators a step, and each one wakes the other
threads. Measured on 2 cores, d_model 256, batch 16, two threads (docs/trainer-protocol.md,
"Measurements"): alone on the machine, spinning threads trained 1.4-1.5x faster than sleeping ones,
and a spin bounded to 30,000 rounds gained as much as an unbounded one; next to one busy process,
every spinning variant (3,000 rounds to unbounded) trained 1.6-4x slower, while sleeping threads kept
their speed. So `spinning: auto` (the default) spins, bounded, only when the cores the run will use
are idle when it starts, and sleeps otherwise. Load that arrives later is not seen: a run that shares
its machine on purpose sets `spinning: false`.

Imported by ``main.py`` before torch: nothing here may import torch.
"""

import os
import time

# Rounds a thread spins before it sleeps (GOMP_SPINCOUNT): bounded, so that a waiting thread stops
# burning its core within a fraction of a millisecond, e.g. while the run evaluates or saves.
BOUNDED_SPIN_COUNT = "30000"

# Cores other processes may keep busy beyond those the run leaves free, for `auto` still to spin.
BUSY_CORES_ALLOWED = 0.5

# How long `auto` watches the machine before it decides.
SAMPLE_SECONDS = 0.25

# The decision main.py made for this process: (policy, reason), or None when it did not choose.
decision = None


def read_cpu_times(path="/proc/stat"):
    """(busy, total) jiffies of all CPUs, from the first line of /proc/stat; None where there is none."""
    try:
        with open(path, encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    values = [int(value) for value in fields[1:]]
    # user nice system idle iowait irq softirq steal ...: idle and iowait are the idle time.
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


def busy_cores(cores, read=read_cpu_times, sleep=time.sleep, seconds=SAMPLE_SECONDS):
    """How many of `cores` were busy over `seconds`, on average; None where the machine does not say."""
    first = read()
    sleep(seconds)
    second = read()
    if first is None or second is None or second[1] <= first[1]:
        return None
    return cores * (second[0] - first[0]) / (second[1] - first[1])


def choose(option, environment, wanted_threads, cores, measure_busy):
    """(policy, reason, variables to set): the OpenMP wait policy for `option` (True, False or "auto").

    `environment` wins when it names a policy; `measure_busy()` is called only for `auto`.
    """
    if environment.get("OMP_WAIT_POLICY"):
        return environment["OMP_WAIT_POLICY"].upper(), "$OMP_WAIT_POLICY", {}
    if option is True:
        return "ACTIVE", "option `spinning: true`", {}
    if option is False:
        return "PASSIVE", "option `spinning: false`", {}
    if wanted_threads <= 1:
        return "PASSIVE", "auto: one thread, nothing to wake", {}
    busy = measure_busy()
    if busy is None:
        return "PASSIVE", "auto: the machine's CPU load is unknown", {}
    spare = cores - wanted_threads
    if busy <= spare + BUSY_CORES_ALLOWED:
        spin = environment.get("GOMP_SPINCOUNT") or BOUNDED_SPIN_COUNT
        reason = f"auto: {busy:.2f} of {cores} cores busy at start, so idle threads spin ({spin} rounds)"
        return "ACTIVE", reason, {"GOMP_SPINCOUNT": spin}
    reason = f"auto: {busy:.2f} of {cores} cores busy at start, so idle threads sleep rather than compete"
    return "PASSIVE", reason, {}


def usable_cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# How the trainer plugin tells the worker its `spinning` option when the request comes over stdin,
# after torch has loaded: true, false or auto.
OPTION_VARIABLE = "DISTILL_WORKER_SPINNING"


def option_from(text):
    """`spinning` as the plugin spells it in OPTION_VARIABLE; anything else is auto."""
    return {"true": True, "false": False}.get((text or "").strip().lower(), "auto")


def apply(option, threads_option):
    """Chooses for this process and sets the environment OpenMP reads when torch loads; remembers why."""
    global decision
    cores = usable_cores()
    from_environment = os.environ.get("OMP_NUM_THREADS", "")
    wanted = threads_option or (int(from_environment) if from_environment.isdigit() else cores)
    policy, reason, variables = choose(option, os.environ, wanted, cores, lambda: busy_cores(cores))
    os.environ["OMP_WAIT_POLICY"] = policy
    for name, value in variables.items():
        os.environ.setdefault(name, value)
    decision = (policy, reason)
