import { after, before } from 'node:test';
import type { AccessLogEntry, AccessLogFormat } from '../../../core/serving/access-log.js';
import { serveStudent, type RunningServer, type ServeStudentRequest } from '../../../core/serving/serve-student.js';
import { tinyStudent, type TinyStudent, type TinyStudentKind } from '../inference/tiny-student-fixture.js';

/** A tiny student served on a free loopback port for one test suite, with its access log kept. */
export interface ServedStudent {
  readonly fixture: TinyStudent;
  readonly server: RunningServer;
  /** Access-log lines so far, as written. */
  readonly logLines: readonly string[];
  /** The lines parsed (for the `json` format). */
  entries(): AccessLogEntry[];
}

/** How the suite's server differs from the default one. */
export interface ServedStudentOptions extends Pick<ServeStudentRequest, 'token' | 'limits'> {
  /** Generated tokens per text (default: what the fixture's PyTorch reference used). */
  readonly maxNewTokens?: number;
  /** Default `json`. */
  readonly logFormat?: AccessLogFormat;
}

/**
 * Registers `before`/`after` hooks in the calling `describe` that serve the `kind` tiny student, and
 * returns its {@link ServedStudent} (usable from the first test on).
 */
export function serveDuringSuite(kind: TinyStudentKind, options: ServedStudentOptions = {}): ServedStudent {
  let fixture: TinyStudent | undefined;
  let server: RunningServer | undefined;
  const logLines: string[] = [];
  before(async () => {
    fixture = await tinyStudent(kind);
    server = await serveStudent({
      model: fixture.exported,
      port: 0,
      token: options.token,
      student: { maxNewTokens: options.maxNewTokens ?? fixture.reference.max_new_tokens },
      limits: options.limits,
      accessLog: { format: options.logFormat ?? 'json', write: (line) => logLines.push(line) },
    });
  });
  after(async () => server?.close());
  const started = <Value>(value: Value | undefined): Value => {
    if (value === undefined) throw new Error('the suite server is not started yet (use it inside a test)');
    return value;
  };
  return {
    get fixture() {
      return started(fixture);
    },
    get server() {
      return started(server);
    },
    logLines,
    entries: () => logLines.map((line) => JSON.parse(line) as AccessLogEntry),
  };
}
