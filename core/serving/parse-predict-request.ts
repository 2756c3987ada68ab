/** A valid `POST /predict` body. */
export interface PredictRequestBody {
  readonly inputs: string[];
  readonly explain: boolean;
}

/** Why a body was refused: the HTTP status and a message saying what to send instead. */
export interface RequestProblem {
  readonly status: 400 | 413;
  readonly message: string;
}

/** Limits on one request. */
export interface RequestLimits {
  /** Most texts in one request. */
  readonly maxBatch: number;
  /** Most characters in one text. */
  readonly maxInputCharacters: number;
}

const allowedKeys = new Set(['inputs', 'explain']);

/**
 * Checks a parsed `POST /predict` body: `{"inputs": string[], "explain"?: boolean}` with 1 to
 * `maxBatch` non-blank texts. Each refusal names the field and what is expected, since the caller is
 * usually a program whose author reads the message once.
 */
export function parsePredictRequest(body: unknown, limits: RequestLimits): PredictRequestBody | RequestProblem {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { status: 400, message: 'the body must be a JSON object like {"inputs": ["text"], "explain": false}' };
  }
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((key) => !allowedKeys.has(key));
  if (unknown.length > 0) {
    return {
      status: 400,
      message: `unknown field(s) ${unknown.map((key) => `"${key}"`).join(', ')}; expected "inputs" and optionally "explain"`,
    };
  }
  const { inputs, explain } = record;
  if (!Array.isArray(inputs)) {
    return { status: 400, message: '"inputs" must be an array of strings' };
  }
  if (inputs.length === 0) {
    return { status: 400, message: '"inputs" is empty; send at least one text' };
  }
  if (inputs.length > limits.maxBatch) {
    return { status: 413, message: `"inputs" holds ${inputs.length} texts; at most ${limits.maxBatch} per request` };
  }
  for (const [index, input] of inputs.entries()) {
    if (typeof input !== 'string')
      return { status: 400, message: `"inputs[${index}]" must be a string, got ${input === null ? 'null' : typeof input}` };
    if (input.trim() === '') return { status: 400, message: `"inputs[${index}]" is empty` };
    if (input.length > limits.maxInputCharacters) {
      return { status: 413, message: `"inputs[${index}]" has ${input.length} characters; at most ${limits.maxInputCharacters}` };
    }
  }
  if (explain !== undefined && typeof explain !== 'boolean') {
    return { status: 400, message: '"explain" must be true or false' };
  }
  return { inputs: inputs as string[], explain: explain === true };
}

/** Whether {@link parsePredictRequest} refused the body. */
export function isRequestProblem(value: PredictRequestBody | RequestProblem): value is RequestProblem {
  return 'status' in value;
}
