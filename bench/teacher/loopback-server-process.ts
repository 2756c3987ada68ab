/**
 * Runs the tests' loopback OpenAI wire-protocol server (`test/support/provider-server.ts`) in a
 * process of its own, so the engine being measured has the event loop and the CPU core to itself
 * and the server's bookkeeping never counts in the engine's memory. Prints `{"baseUrl": …}` on one
 * stdout line when listening; exits when stdin closes (the bench ended or died).
 *
 * Every request is answered at once with the recorded chat-completion shape and a fixed answer, as
 * a fast provider would: the bench measures the client side, not a model.
 */
import { startProviderServer } from '../../test/support/provider-server.js';

/** The answer every request gets: the recorded fixture's NLI answer, which the zero-shot parser reads. */
export const loopbackAnswer =
  'The claim is true. The premise states that the event took place in Paris, so the hypothesis follows from it.';

const server = await startProviderServer('openai', () => ({
  kind: 'answer',
  text: loopbackAnswer,
  usage: { promptTokens: 42, completionTokens: 24 },
}));

// The server keeps every request for tests' assertions; a bench sends hundreds of thousands, so
// forget them regularly to keep the server's own memory and garbage collection small.
const forget = setInterval(() => {
  server.requests.length = 0;
  server.answers.length = 0;
}, 500);

process.stdout.write(JSON.stringify({ baseUrl: server.baseUrl }) + '\n');
process.stdin.resume();
process.stdin.on('end', () => {
  clearInterval(forget);
  void server.close().then(() => process.exit(0));
});
