import type { ChildProcess } from 'node:child_process';
import type { Disposable } from 'tsyringe';

/** How long a process asked to stop (SIGTERM) may take before it is killed. */
const stopGraceMilliseconds = 5_000;

/**
 * The child processes a run started (trainer workers, exporters): a run service, so that disposing the
 * run's container stops every one still running — after a success, a failure or Ctrl+C alike — and
 * none outlives its run. A process is forgotten once it exits.
 */
export class ChildProcesses implements Disposable {
  private readonly running = new Set<ChildProcess>();

  /** Follows a started process until it exits. */
  track(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    this.running.add(child);
    child.once('exit', () => this.running.delete(child));
  }

  /** How many tracked processes are still running. */
  get count(): number {
    return this.running.size;
  }

  /** Asks every running process to stop, kills those still there after a grace period, and waits for them. */
  async dispose(): Promise<void> {
    await Promise.all([...this.running].map((child) => stop(child)));
  }
}

/**
 * Sends a signal to a child and what it started: to its process group when it leads one (a program
 * started `detached`, such as a trainer worker whose ranks torchrun started), else to it alone.
 */
function signal(child: ChildProcess, name: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, name);
    return;
  } catch {
    // Not a group leader (ESRCH): the child alone.
  }
  child.kill(name);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => signal(child, 'SIGKILL'), stopGraceMilliseconds);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    signal(child, 'SIGTERM');
  });
}
