import type { RequestLimits } from './parse-predict-request.js';

/**
 * Every size and time bound of the HTTP API. Each one caps what a client can make the server hold:
 * memory (body, connections, queue), time (headers, body) and model work (batch, text length).
 */
export interface PredictionServerLimits extends RequestLimits {
  /**
   * Largest request body in bytes. A larger `Content-Length` is answered 413 before any body is read;
   * a chunked body is read up to this size, then answered 413 and the connection closed.
   */
  readonly maxBodyBytes: number;
  /**
   * Predictions that may wait while one runs (0: none waits). When they are all taken, a request is
   * answered 503 with `Retry-After` at once instead of waiting behind work it cannot see. A request
   * waits at most this many predictions plus the running one; the model runs one at a time, so a
   * longer queue adds waiting, never throughput.
   */
  readonly maxQueuedPredictions: number;
  /** Time a client has to send its request headers; then 408 and the connection is closed. */
  readonly headersTimeoutMilliseconds: number;
  /** Time a client has to send its body once the headers are in; then 408 and the connection is closed. */
  readonly bodyTimeoutMilliseconds: number;
  /** Open connections at once; further ones are closed as they arrive (memory is about this × `maxBodyBytes`). */
  readonly maxConnections: number;
}

/**
 * Defaults: 1 MiB bodies, 64 texts a request, 20,000 characters a text, 4 waiting predictions,
 * 10 s for the headers and 30 s for the body (a 1 MiB body at 35 kB/s), 256 connections.
 */
export const defaultServerLimits: PredictionServerLimits = {
  maxBodyBytes: 1024 * 1024,
  maxBatch: 64,
  maxInputCharacters: 20_000,
  maxQueuedPredictions: 4,
  headersTimeoutMilliseconds: 10_000,
  bodyTimeoutMilliseconds: 30_000,
  maxConnections: 256,
};
