import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Student } from '../inference/load-student.js';
import { isRequestProblem, parsePredictRequest, type RequestLimits } from './parse-predict-request.js';

/** Limits of the HTTP API. */
export interface PredictionServerLimits extends RequestLimits {
  /** Largest request body in bytes; a larger one is answered 413. */
  readonly maxBodyBytes: number;
}

/** Defaults: 1 MiB bodies, 64 texts a request, 20,000 characters a text. */
export const defaultServerLimits: PredictionServerLimits = {
  maxBodyBytes: 1024 * 1024,
  maxBatch: 64,
  maxInputCharacters: 20_000,
};

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, message: string): void {
  sendJson(response, status, { error: { status, message } });
}

/**
 * Reads a body up to `limit` bytes. Past the limit it keeps reading but stores nothing, and reports
 * null: answering before the client has finished sending makes many clients see a reset connection
 * instead of the 413.
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(request.headers['content-length'] ?? 0) > limit;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * The JSON API of `distill serve`:
 * - `GET /health` → `{status: "ok", model, precision}`
 * - `POST /predict` `{inputs: string[], explain?: boolean}` → `{predictions: [{label, rationale?}]}`
 *
 * Every refusal is a JSON `{error: {status, message}}`: 400 for bad JSON or wrong fields, 413 for a
 * body, batch or text over the limits, 404/405 for other routes. A failure inside the model is a 500
 * for that request only; the server keeps serving.
 */
export function createPredictionServer(student: Student, limits: PredictionServerLimits = defaultServerLimits): Server {
  // One prediction at a time: onnxruntime already spreads one batch over its threads, and
  // concurrent runs would only compete for the same cores (oversubscription costs about 3x here).
  let queue: Promise<unknown> = Promise.resolve();
  const predictInTurn: Student['predict'] = (texts, options) => {
    const turn = queue.then(() => student.predict(texts, options));
    queue = turn.catch(() => undefined);
    return turn;
  };
  const queued: Student = { ...student, predict: predictInTurn };
  return createServer((request, response) => {
    handle(queued, limits, request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, `prediction failed: ${(error as Error).message}`);
      else response.end();
    });
  });
}

async function handle(student: Student, limits: PredictionServerLimits, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/health') {
    if (request.method !== 'GET') return sendError(response, 405, 'use GET /health');
    return sendJson(response, 200, { status: 'ok', model: student.directory, precision: student.precision });
  }
  if (url.pathname !== '/predict') return sendError(response, 404, `no route ${url.pathname}; use GET /health or POST /predict`);
  if (request.method !== 'POST') return sendError(response, 405, 'use POST /predict with a JSON body');

  const body = await readBody(request, limits.maxBodyBytes);
  if (body === null) return sendError(response, 413, `the body is larger than ${limits.maxBodyBytes} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return sendError(response, 400, `the body is not valid JSON: ${(error as Error).message}`);
  }
  const predictRequest = parsePredictRequest(parsed, limits);
  if (isRequestProblem(predictRequest)) return sendError(response, predictRequest.status, predictRequest.message);
  const predictions = await student.predict(predictRequest.inputs, { explain: predictRequest.explain });
  return sendJson(response, 200, { predictions });
}
