/** How access-log lines are written: `text` for people, `json` (one object a line) for log collectors. */
export type AccessLogFormat = 'text' | 'json';

/** The formats, for flag parsers. */
export const accessLogFormats: readonly AccessLogFormat[] = ['text', 'json'];

/**
 * Why a request got no answer, or how an answer came about that its status alone does not say.
 * - `client-gone-while-sending`: the client closed the connection before its body was in.
 * - `cancelled-while-queued`: the client left while its prediction waited; the model never ran it.
 * - `client-gone-during-prediction`: the client left while its prediction ran (a run cannot be
 *   stopped); the answer was thrown away.
 * - `client-gone`: the client left before the answer at any other point.
 * - `headers-timeout`: the headers did not arrive in time (answered 408, connection closed).
 * - `malformed-request`: the request was not valid HTTP or its headers were too large (400/431).
 * - `too-many-connections`: the connection was closed on arrival, the server holding its maximum.
 */
export type RequestOutcome =
  | 'client-gone-while-sending'
  | 'cancelled-while-queued'
  | 'client-gone-during-prediction'
  | 'client-gone'
  | 'headers-timeout'
  | 'malformed-request'
  | 'too-many-connections';

/** One access-log line. Never the body, never a header: a token cannot end up in the log. */
export interface AccessLogEntry {
  /** When the request arrived (for a connection refused before its request: when it was refused), ISO 8601 in UTC. */
  readonly time: string;
  /** `GET`, `POST`…; `-` when no request line was read. */
  readonly method: string;
  /** The path without its query string; `-` when no request line was read. */
  readonly path: string;
  /** Status of the answer sent; null when none was sent (the client had gone). */
  readonly status: number | null;
  /** From arrival to the end of the answer (or to the client leaving). */
  readonly durationMilliseconds: number;
  /** Body bytes read from the client. */
  readonly requestBytes: number;
  /** The client's address (`-` when the socket no longer knows it). */
  readonly remoteAddress: string;
  /** Present when the status does not tell the whole story; see {@link RequestOutcome}. */
  readonly outcome?: RequestOutcome;
}

/** Where access-log lines go. */
export interface AccessLogOptions {
  readonly format: AccessLogFormat;
  /** Writes one line (without its newline); default: stderr, so that stdout stays free for `--json`. */
  readonly write?: (line: string) => void;
}

/** Receives each access-log entry. */
export type AccessLogSink = (entry: AccessLogEntry) => void;

/**
 * One line for an entry. Text: `time remote "METHOD path" status durationms bytesB [outcome]`, with
 * `-` for a missing status, in the order of the common log format people already read.
 */
export function formatAccessLogEntry(entry: AccessLogEntry, format: AccessLogFormat): string {
  if (format === 'json') return JSON.stringify(entry);
  const fields = [
    entry.time,
    entry.remoteAddress,
    `"${entry.method} ${entry.path}"`,
    entry.status === null ? '-' : String(entry.status),
    `${entry.durationMilliseconds}ms`,
    `${entry.requestBytes}B`,
  ];
  if (entry.outcome) fields.push(entry.outcome);
  return fields.join(' ');
}

/** A sink that formats each entry and writes it as one line. */
export function createAccessLog(options: AccessLogOptions): AccessLogSink {
  const write = options.write ?? ((line: string) => process.stderr.write(line + '\n'));
  return (entry) => write(formatAccessLogEntry(entry, options.format));
}
