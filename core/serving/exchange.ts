import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AccessLogEntry, AccessLogSink, RequestOutcome } from './access-log.js';

/**
 * One request and its answer, with what the access log needs: when it came, the body bytes read,
 * and how it ended. Its signal aborts when the client goes away before the answer is sent, so that
 * work done for it (a queued prediction) can be dropped.
 */
export class Exchange {
  /** Body bytes read so far. */
  receivedBytes = 0;
  /** Set when the body has been read to its end: only then may the connection be reused. */
  bodyComplete = false;
  /** How it ended, when the status alone does not say (see {@link RequestOutcome}). */
  outcome: RequestOutcome | undefined;
  /** The path, once the URL is parsed (never the query string, which the log does not keep). */
  path = '-';

  private readonly arrival = new Date();
  private readonly start = performance.now();
  private readonly controller = new AbortController();
  // Read now: a closed socket no longer knows its peer.
  private readonly remoteAddress: string;
  private closed = false;

  constructor(
    readonly request: IncomingMessage,
    readonly response: ServerResponse,
  ) {
    this.remoteAddress = request.socket.remoteAddress ?? '-';
    response.once('close', () => {
      this.closed = true;
      if (!response.writableFinished) this.controller.abort();
    });
  }

  /** Aborts when the client has gone before its answer. */
  get clientGone(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Sends a JSON answer. When part of the body is still unread (an early refusal, a body over the
   * limit or too slow) the connection is closed after it: reading the rest would defeat the limit,
   * and the next request on it could not be found.
   */
  send(status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
    const text = JSON.stringify(body);
    const close = !this.bodyComplete && hasBody(this.request);
    this.response.writeHead(status, {
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      ...(close ? { connection: 'close' } : {}),
    });
    this.response.end(text);
  }

  /** Sends `{error: {status, message}}`. */
  refuse(status: number, message: string, headers: OutgoingHttpHeaders = {}): void {
    this.send(status, { error: { status, message } }, headers);
  }

  /** Calls `sink` with this exchange's entry once its connection has let go of it (answered or gone). */
  logWhenClosed(sink: AccessLogSink): void {
    const log = () => sink(this.entry());
    if (this.closed) log();
    else this.response.once('close', log);
  }

  /** The access-log entry as things stand. */
  entry(): AccessLogEntry {
    const answered = this.response.writableFinished;
    const outcome = this.outcome ?? (answered ? undefined : 'client-gone');
    return {
      time: this.arrival.toISOString(),
      method: this.request.method ?? '-',
      path: this.path,
      status: answered ? this.response.statusCode : null,
      durationMilliseconds: Math.round(performance.now() - this.start),
      requestBytes: this.receivedBytes,
      remoteAddress: this.remoteAddress,
      ...(outcome ? { outcome } : {}),
    };
  }
}

/** Whether the request announces a body (a length above 0, or chunks). */
function hasBody(request: IncomingMessage): boolean {
  return request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length'] ?? 0) > 0;
}
