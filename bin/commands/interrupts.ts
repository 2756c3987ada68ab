/**
 * Ctrl+C (SIGINT) and SIGTERM for a command that does long work: the first asks the work to stop
 * (`cancel` aborts with `reason`; the teacher stops sending and waits for the answers in flight, the
 * trainer writes a checkpoint) and prints `message`; a second leaves at once with exit code 130,
 * losing only what was in flight. Returns the function that removes the handlers.
 */
export function stopOnInterrupt(cancel: AbortController, message: string, reason = 'cancelled by the user'): () => void {
  const onInterrupt = () => {
    if (cancel.signal.aborted) process.exit(130);
    process.stderr.write(`\n${message} (Ctrl+C again to leave now)\n`);
    cancel.abort(new Error(reason));
  };
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  return () => {
    process.removeListener('SIGINT', onInterrupt);
    process.removeListener('SIGTERM', onInterrupt);
  };
}
