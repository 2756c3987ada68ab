import { connect, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

/**
 * A plain TCP connection to a test server, for the clients `fetch` cannot play: one that sends its
 * headers and then dribbles, or announces a body it never sends. It keeps everything it receives
 * and notes when the server closes the connection.
 */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far, as text. */
  received(): string;
  /** Resolves, with the time it happened (performance.now()), once the connection is closed. */
  readonly closed: Promise<number>;
  /** Resolves once `pattern` has been received (rejects if the connection closes first). */
  waitFor(pattern: RegExp): Promise<string>;
}

/** Opens a {@link RawConnection} to `http://host:port`. */
export async function openRawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({ host: hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let text = '';
  const listeners = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString('latin1');
    for (const listener of listeners) listener();
  });
  // A reset while the test still writes is expected; the test looks at what arrived and when it closed.
  socket.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(performance.now())));
  return {
    socket,
    received: () => text,
    closed,
    waitFor(pattern) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!pattern.test(text)) return;
          listeners.delete(check);
          resolve(text);
        };
        listeners.add(check);
        check();
        void closed.then(() => {
          if (listeners.delete(check)) reject(new Error(`connection closed before ${pattern} arrived; received: ${JSON.stringify(text)}`));
        });
      });
    },
  };
}

/**
 * Polls `condition` every 10 ms (running `attempt` before each look, when given) until it holds;
 * fails the test after `timeoutMilliseconds`.
 */
export async function waitUntil(
  condition: () => boolean,
  description: string,
  timeoutMilliseconds = 30_000,
  attempt?: () => Promise<void>,
): Promise<void> {
  const deadline = performance.now() + timeoutMilliseconds;
  for (;;) {
    await attempt?.();
    if (condition()) return;
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${description}`);
    await delay(10);
  }
}
