import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { ChildProcesses } from '../services/child-processes.js';
import { createInterface } from 'node:readline';
import { UserError } from '../errors/user-error.js';
import {
  programProtocolVersion,
  type ProgramError,
  type ProgramHello,
  type ProgramMessage,
  type ProgramRequest,
} from './program-protocol.js';
import { checkPythonEnvironment, setupCommand } from './python-interpreter.js';
import { PythonProgramFailure, TailBuffer } from './python-program-failure.js';

/** Lines of a program's stderr kept for the errors about it. */
const stderrTailLines = 40;

/** The envelope's own event types, known to every program. */
const envelopeTypes: ReadonlySet<string> = new Set(['hello', 'error', 'done']);

/** How to start a Python program. */
export interface PythonProgramCommand {
  readonly executable: string;
  readonly args: readonly string[];
  readonly environment: Readonly<Record<string, string | undefined>>;
  /** The Python interpreter, to diagnose a broken environment when the program dies before `hello`. */
  readonly interpreter?: string;
}

/** A started program, as the hooks of {@link PythonProgramSettings} see it. */
export interface RunningProgram {
  /** The handshake, once it came. */
  readonly hello: ProgramHello | undefined;
  /** Writes one protocol line on the program's stdin. */
  send(message: ProgramRequest): void;
  /** Signals the program's process group (the program and whatever it started, such as torchrun's ranks). */
  signal(name: NodeJS.Signals): void;
}

/** One run of a Python program. */
export interface PythonProgramSettings<Event extends ProgramMessage> {
  /** How errors name the program: `the trainer worker`. */
  readonly name: string;
  /** `kind/id` of the plugin that runs it, named by every {@link UserError} about it. */
  readonly plugin: string;
  readonly command: PythonProgramCommand;
  /** The program's own event types, besides the envelope's `hello`, `error` and `done`. */
  readonly eventTypes: ReadonlySet<string>;
  /** The fix a {@link UserError} names when the program's `error` gives none, by error kind. */
  readonly fixes: { readonly user: string; readonly output?: string };
  /** How long the program may take to import its libraries and say hello. */
  readonly handshakeTimeoutMs: number;
  /** Called once after a handshake of this distill's protocol: sends the request, where there is one. */
  readonly onHandshake?: (program: RunningProgram) => void;
  /** Every event, `hello` first, in order. */
  readonly onEvent?: (event: Event) => void;
  readonly signal?: AbortSignal;
  /** Asks a cancelled program to stop; by default SIGTERM to its process group. */
  readonly cancel?: (program: RunningProgram) => void;
  /** How long a cancelled program may take to stop (a checkpoint to write) before it is killed. */
  readonly cancelGraceMs: number;
  /** The run's process list: the program is stopped with the run, however the run ends. */
  readonly processes?: ChildProcesses;
}

/** The handshake and the last line of a program that finished. */
export interface PythonProgramOutcome<Event extends ProgramMessage> {
  readonly hello: Extract<Event, { type: 'hello' }>;
  readonly done: Extract<Event, { type: 'done' }>;
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `was killed by ${signal}` : `exited with code ${code}`;
}

/**
 * Runs a Python program that speaks distill's JSON-lines protocol (docs/trainer-protocol.md, "The
 * envelope") and resolves with its `hello` and `done` once it exits with status 0. Every way a
 * program can go wrong becomes a rejection that says what happened, never a hang: no `hello` in
 * time, another protocol version (a {@link UserError}), a line that is not protocol JSON or of an
 * unknown type (the program is killed at once), an `error` event (a {@link UserError} for kinds
 * `user` and `output`, a {@link PythonProgramFailure} with the traceback for `internal`), a death
 * before the handshake (a broken environment is reported as such), an exit without `done` (with
 * the stderr tail). On abort the program is asked to stop ({@link PythonProgramSettings.cancel}),
 * killed after the grace period, and the promise rejects with the signal's reason.
 */
export function runPythonProgram<Event extends ProgramMessage>(
  settings: PythonProgramSettings<Event>,
): Promise<PythonProgramOutcome<Event>> {
  return new Promise((resolve, reject) => {
    new ProgramRun(settings, resolve, reject);
  });
}

/** One started program and what it said so far; settles the promise when the process is gone. */
class ProgramRun<Event extends ProgramMessage> implements RunningProgram {
  hello: ProgramHello | undefined;
  private done: Event | undefined;
  private errorEvent: ProgramError | undefined;
  private failure: Error | undefined;
  private cancelled = false;
  private closed = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly stderrTail = new TailBuffer(stderrTailLines);
  private readonly child: ChildProcessWithoutNullStreams;

  constructor(
    private readonly settings: PythonProgramSettings<Event>,
    private readonly resolve: (outcome: PythonProgramOutcome<Event>) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    const { command } = settings;
    // Its own process group, so that a program and what it starts (torchrun's ranks) are signalled
    // together, and a terminal's Ctrl+C reaches distill (which cancels cleanly) rather than the program.
    this.child = spawn(command.executable, [...command.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: { ...command.environment, PYTHONUNBUFFERED: '1' },
    });
    settings.processes?.track(this.child);
    this.handshakeTimer = setTimeout(() => {
      const seconds = Math.round(settings.handshakeTimeoutMs / 1000);
      this.fail(new PythonProgramFailure(`${settings.name} did not send its handshake within ${seconds} s`, this.stderrTail.toString()));
    }, settings.handshakeTimeoutMs);
    // A program whose stdin closes early must not crash distill with EPIPE.
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (error) =>
      this.fail(new PythonProgramFailure(`cannot start ${settings.name} (${command.executable}): ${error.message}`, '')),
    );
    createInterface({ input: this.child.stderr }).on('line', (line) => this.stderrTail.push(line));
    createInterface({ input: this.child.stdout }).on('line', (line) => this.onLine(line));
    this.child.on('close', (code, exitSignal) => this.onClose(code, exitSignal));
    if (settings.signal?.aborted) this.onAbort();
    else settings.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  send(message: ProgramRequest): void {
    if (this.child.stdin.writable) this.child.stdin.write(JSON.stringify(message) + '\n');
  }

  signal(name: NodeJS.Signals): void {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
    try {
      process.kill(-child.pid, name);
    } catch {
      child.kill(name);
    }
  }

  /** Records the first failure and makes sure the process goes away; the close handler settles. */
  private fail(error: Error): void {
    this.failure ??= error;
    this.signal('SIGKILL');
  }

  private readonly onAbort = (): void => {
    if (this.cancelled || this.closed) return;
    this.cancelled = true;
    (this.settings.cancel ?? ((program: RunningProgram) => program.signal('SIGTERM')))(this);
    this.killTimer = setTimeout(() => this.signal('SIGKILL'), this.settings.cancelGraceMs);
  };

  private onLine(line: string): void {
    if (this.failure || line.trim() === '') return;
    const event = this.parse(line);
    if (!event) return;
    if (!this.hello) {
      this.beforeHandshake(event, line);
      return;
    }
    if (event.type === 'error') this.errorEvent = event as unknown as ProgramError;
    if (event.type === 'done') this.done = event;
    this.notify(event);
  }

  /**
   * Hands an event to the caller. A listener that breaks (a display, a log) fails the run and stops
   * the program: thrown from a line handler, it would be an uncaught exception of the whole process.
   */
  private notify(event: Event): void {
    try {
      this.settings.onEvent?.(event);
    } catch (error) {
      this.fail(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** The line as an event; a line that is not protocol JSON or of an unknown type fails the run. */
  private parse(line: string): Event | undefined {
    const { name, eventTypes } = this.settings;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      this.fail(
        new PythonProgramFailure(
          `${name} wrote a line that is not protocol JSON: ${JSON.stringify(line.slice(0, 200))}`,
          this.stderrTail.toString(),
        ),
      );
      return undefined;
    }
    const type = typeof parsed === 'object' && parsed !== null ? (parsed as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !(envelopeTypes.has(type) || eventTypes.has(type))) {
      this.fail(new PythonProgramFailure(`${name} wrote an unknown message: ${line.slice(0, 200)}`, this.stderrTail.toString()));
      return undefined;
    }
    return parsed as Event;
  }

  private beforeHandshake(event: Event, line: string): void {
    const { name, plugin } = this.settings;
    // A program that fails while importing its libraries reports that before any handshake.
    if (event.type === 'error') {
      this.errorEvent = event as unknown as ProgramError;
      return;
    }
    if (event.type !== 'hello') {
      this.fail(new PythonProgramFailure(`${name} spoke before its handshake: ${line.slice(0, 200)}`, this.stderrTail.toString()));
      return;
    }
    clearTimeout(this.handshakeTimer);
    const hello = event as unknown as ProgramHello;
    if (hello.protocol !== programProtocolVersion) {
      const message = `${name} speaks protocol ${JSON.stringify(hello.protocol)}, this distill speaks protocol ${programProtocolVersion}`;
      const fix = `use ${name} that ships with this distill (the \`python\` option and $DISTILL_PYTHON pick only the interpreter), and run \`${setupCommand}\` to refresh its environment`;
      this.fail(new UserError({ message, plugin, fix }));
      return;
    }
    this.hello = hello;
    this.notify(event);
    if (!this.cancelled && !this.failure) this.settings.onHandshake?.(this);
  }

  private onClose(code: number | null, exitSignal: NodeJS.Signals | null): void {
    this.closed = true;
    clearTimeout(this.handshakeTimer);
    if (this.killTimer) clearTimeout(this.killTimer);
    this.settings.signal?.removeEventListener('abort', this.onAbort);
    try {
      this.resolve(this.outcome(code, exitSignal));
    } catch (error) {
      this.reject(error);
    }
  }

  /** What the run came to, thrown when it failed. */
  private outcome(code: number | null, exitSignal: NodeJS.Signals | null): PythonProgramOutcome<Event> {
    const { settings } = this;
    const tail = this.stderrTail.toString();
    if (this.failure) throw this.failure;
    if (this.cancelled && !this.errorEvent) {
      throw settings.signal?.reason instanceof Error ? settings.signal.reason : new Error(`${settings.name} was cancelled`);
    }
    // Died before the handshake: most often a broken environment, which has its own message.
    if (!this.hello && settings.command.interpreter) checkPythonEnvironment(settings.command.interpreter);
    if (this.errorEvent) throw this.errorOf(this.errorEvent, tail);
    if (this.done && this.hello && code === 0) {
      return { hello: this.hello, done: this.done } as unknown as PythonProgramOutcome<Event>;
    }
    const stage = this.hello ? 'before finishing' : 'before its handshake';
    const stderr = tail ? `; last lines of its stderr:\n${tail}` : ' (no stderr output)';
    throw new PythonProgramFailure(`${settings.name} ${describeExit(code, exitSignal)} ${stage}${stderr}`, tail);
  }

  /** A {@link UserError} for a mistake the program reported, a {@link PythonProgramFailure} for a bug. */
  private errorOf(event: ProgramError, tail: string): Error {
    const { plugin, fixes, name } = this.settings;
    if (event.kind === 'user' || event.kind === 'output') {
      const fix = event.fix ?? (event.kind === 'output' ? fixes.output : undefined) ?? fixes.user;
      return new UserError({ message: `${plugin.split('/')[0]}: ${event.message}`, plugin, fix });
    }
    return new PythonProgramFailure(`${name} failed: ${event.message}\n${event.traceback ?? ''}`.trimEnd(), tail, event.traceback);
  }
}
