/** Levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Structured logging shared by the core and every plugin. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const levelOrder: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Writes one line per message to a stream (stderr by default, so stdout stays free for `--json`
 * output and command results).
 */
export class StreamLogger implements Logger {
  constructor(
    private readonly minimumLevel: LogLevel = 'info',
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {}

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }

  private log(level: LogLevel, message: string, fields?: Record<string, unknown>): void {
    if (levelOrder[level] < levelOrder[this.minimumLevel]) return;
    const suffix = fields && Object.keys(fields).length > 0 ? ' ' + JSON.stringify(fields) : '';
    this.write(`${level}: ${message}${suffix}`);
  }
}

/** A logger that keeps its lines in memory; used by tests and by `--json` mode. */
export class MemoryLogger implements Logger {
  readonly lines: { level: LogLevel; message: string; fields?: Record<string, unknown> }[] = [];
  debug(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, fields });
  }
}
