/**
 * The envelope of the JSON-lines protocol every Python program of distill speaks (the trainer
 * worker, the ONNX export program): docs/trainer-protocol.md, "The envelope". Field names are
 * snake_case because they are the wire format the Python side writes. Each program adds its own
 * event types between `hello` and `done`.
 */

/** The protocol version this distill speaks; every program's `hello` must carry the same. */
export const programProtocolVersion = 1;

/** Any line a program writes: a JSON object with a string `type`. */
export interface ProgramMessage {
  readonly type: string;
}

/** A line distill writes on a program's stdin (a request, a cancel): a `type` and the message's fields. */
export type ProgramRequest = ProgramMessage & Readonly<Record<string, unknown>>;

/** The first line a program writes. */
export interface ProgramHello extends ProgramMessage {
  readonly type: 'hello';
  readonly protocol: number;
  /** Which program (`distill-worker`, `export-onnx`). */
  readonly program?: string;
  readonly pid: number;
  /** `python` and each package the program runs with; null for one that is not installed. */
  readonly versions: Readonly<Record<string, string | null>>;
}

/**
 * The program failed: `user` for a mistake in what it was given (with a fix where it knows one);
 * `output` for an output folder it will not use (no sound checkpoint left to resume, a link
 * leading outside it), which a fresh folder cures; `internal` (a bug, a crash) with the traceback.
 */
export interface ProgramError extends ProgramMessage {
  readonly type: 'error';
  readonly kind: 'user' | 'output' | 'internal';
  readonly message: string;
  readonly fix?: string | null;
  readonly traceback: string | null;
}

/** The last line of a program that finished; each program adds its own fields. */
export interface ProgramDone extends ProgramMessage {
  readonly type: 'done';
}
