/** Why a Python program failed other than by a user's mistake, with what it printed last (its stderr tail). */
export class PythonProgramFailure extends Error {
  constructor(
    message: string,
    readonly stderrTail: string,
    readonly traceback: string | null = null,
  ) {
    super(message);
    this.name = 'PythonProgramFailure';
  }
}

/** Keeps the last lines of a stream, for error messages. */
export class TailBuffer {
  private lines: string[] = [];
  constructor(private readonly limit: number) {}
  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.limit) this.lines.shift();
  }
  toString(): string {
    return this.lines.join('\n');
  }
}
