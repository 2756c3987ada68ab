/** `1h02m`, `3m05s`, `12s`: short enough for a progress line. */
export function formatDuration(milliseconds: number): string {
  if (!Number.isFinite(milliseconds) || milliseconds < 0) return '?';
  const seconds = Math.round(milliseconds / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** Time left at the current rate, or null before there is a rate. */
export function estimateRemaining(done: number, total: number, elapsedMilliseconds: number): number | null {
  if (done <= 0 || total <= done || elapsedMilliseconds <= 0) return done >= total && total > 0 ? 0 : null;
  return (elapsedMilliseconds / done) * (total - done);
}
