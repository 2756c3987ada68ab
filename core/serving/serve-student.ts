import type { AddressInfo } from 'node:net';
import { UserError } from '../errors/user-error.js';
import { loadStudent, type LoadStudentOptions } from '../inference/load-student.js';
import { createPredictionServer, defaultServerLimits, type PredictionServerLimits } from './prediction-server.js';

/** What `distill serve` starts. */
export interface ServeStudentRequest {
  /** Exported student folder. */
  readonly model: string;
  /** Interface to listen on (default 127.0.0.1: serving beyond the machine is an explicit choice). */
  readonly host?: string;
  /** Port (default 8080; 0 picks a free one). */
  readonly port?: number;
  readonly student?: LoadStudentOptions;
  readonly limits?: Partial<PredictionServerLimits>;
}

/** A running server. */
export interface RunningServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening and releases the model. */
  close(): Promise<void>;
}

/**
 * Loads the student first, so that a wrong model folder fails before anything listens, then serves
 * the JSON API of {@link createPredictionServer}.
 */
export async function serveStudent(request: ServeStudentRequest): Promise<RunningServer> {
  const student = await loadStudent(request.model, request.student);
  const server = createPredictionServer(student, { ...defaultServerLimits, ...request.limits });
  const host = request.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(request.port ?? 8080, host, () => resolve());
    });
  } catch (error) {
    await student.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new UserError({ message: `cannot listen on ${host}:${request.port ?? 8080} (${code})`, fix: 'pick another --port or --host' });
    }
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections would hold close() open until they time out.
      server.closeAllConnections();
      await closed;
      await student.close();
    },
  };
}
