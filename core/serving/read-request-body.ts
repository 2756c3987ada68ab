import type { IncomingMessage, ServerResponse } from 'node:http';

/** How reading a body ended, with the bytes read from the client either way. */
export type RequestBody =
  | { readonly kind: 'complete'; readonly body: Buffer; readonly receivedBytes: number }
  /** Announced or found larger than the limit; reading stopped there. */
  | { readonly kind: 'too-large'; readonly receivedBytes: number }
  /** Not all in by the deadline; reading stopped there. */
  | { readonly kind: 'timed-out'; readonly receivedBytes: number }
  /** The client closed the connection first. */
  | { readonly kind: 'client-gone'; readonly receivedBytes: number };

/** Bounds of one body. */
export interface BodyLimits {
  readonly maxBytes: number;
  readonly timeoutMilliseconds: number;
}

/**
 * Reads a request body within a size and a time bound. A `Content-Length` over the limit is refused
 * before a byte is read (and before a client that sent `Expect: 100-continue` is told to go on); a
 * chunked body is read only until it crosses the limit. Whenever reading
 * stops early the request is paused, so that nothing more is pulled off the wire: the caller answers
 * and closes the connection, and a client streaming 200 MB has sent only what the socket buffers hold.
 */
export function readRequestBody(request: IncomingMessage, response: ServerResponse, limits: BodyLimits): Promise<RequestBody> {
  if (Number(request.headers['content-length'] ?? 0) > limits.maxBytes) {
    request.pause();
    return Promise.resolve({ kind: 'too-large', receivedBytes: 0 });
  }
  if (request.headers.expect?.toLowerCase() === '100-continue') response.writeContinue();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let receivedBytes = 0;
    const finish = (result: RequestBody): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onGone);
      request.off('close', onGone);
      if (result.kind !== 'complete') request.pause();
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      receivedBytes += chunk.length;
      if (receivedBytes > limits.maxBytes) finish({ kind: 'too-large', receivedBytes });
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish({ kind: 'complete', body: Buffer.concat(chunks), receivedBytes });
    // 'close' before 'end', or an 'aborted' error: the client went away mid-body.
    const onGone = (): void => finish({ kind: 'client-gone', receivedBytes });
    const timer = setTimeout(() => finish({ kind: 'timed-out', receivedBytes }), limits.timeoutMilliseconds);
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onGone);
    request.on('close', onGone);
  });
}
