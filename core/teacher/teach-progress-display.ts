import type { DistillEvent, EventListener } from '../services/event-stream.js';

/** How `distill teach` shows progress: a redrawn bar (TTY), plain lines (logs, CI) or JSON lines (`--json`). */
export type TeachDisplayMode = 'bar' | 'lines' | 'json';

/** A progress display: an event listener plus a final flush. */
export interface TeachProgressDisplay {
  readonly listener: EventListener;
  finish(): void;
}

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(milliseconds: number): string {
  const seconds = Math.max(0, Math.round(milliseconds / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  if (hours > 0) return `${hours}h${String(minutes).padStart(2, '0')}m`;
  if (minutes > 0) return `${minutes}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}

/** Estimated time left, from the pace of the examples done by this run (resumed ones took no time). */
function eta(event: DistillEvent): string {
  const doneThisRun = Number(event.done_this_run ?? 0);
  const left = Number(event.total) - Number(event.done) - Number(event.skipped ?? 0);
  if (doneThisRun <= 0 || left <= 0) return left <= 0 ? '0s' : '?';
  return formatDuration((Number(event.elapsed_ms) / doneThisRun) * left);
}

/** One status line: done/total, cached, failed, dollars so far, ETA. */
export function progressLine(event: DistillEvent): string {
  const skipped = Number(event.skipped ?? 0);
  return (
    `${event.done}/${event.total} done, ${event.cached} cached, ${event.failed} failed` +
    (skipped > 0 ? `, ${skipped} over budget` : '') +
    `, $${Number(event.dollars).toFixed(4)}, ETA ${eta(event)}`
  );
}

function bar(event: DistillEvent, width = 24): string {
  const total = Number(event.total);
  const share = total > 0 ? Math.min(1, Number(event.done) / total) : 1;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/**
 * Builds the display for a mode. The bar redraws one line at most ten times a second; plain lines
 * come at every tenth of the work; JSON mode writes every event as one line.
 */
export function createTeachProgressDisplay(mode: TeachDisplayMode, write: (text: string) => void, now: () => number = Date.now): TeachProgressDisplay {
  if (mode === 'json') {
    return { listener: (event) => write(JSON.stringify(event) + '\n'), finish: () => undefined };
  }
  let last: DistillEvent | null = null;
  let lastDrawn = Number.NEGATIVE_INFINITY;
  let lastDecile = -1;
  let lastWritten = '';
  const draw = (force: boolean) => {
    if (!last) return;
    if (mode === 'bar') {
      if (!force && now() - lastDrawn < 100) return;
      lastDrawn = now();
      write(`\r\x1b[2K${bar(last)} ${progressLine(last)}`);
      return;
    }
    const total = Number(last.total);
    const decile = total > 0 ? Math.floor((Number(last.done) / total) * 10) : 10;
    const line = `teacher: ${progressLine(last)}\n`;
    if ((force || decile > lastDecile) && line !== lastWritten) {
      lastDecile = decile;
      lastWritten = line;
      write(line);
    }
  };
  return {
    listener(event) {
      if (event.type === 'teacher.progress') {
        last = event;
        draw(false);
      } else if (event.type === 'teacher.start' && Number(event.resumed) > 0) {
        write(`teacher: resuming, ${event.resumed} of ${event.total} examples already done\n`);
      }
    },
    finish() {
      draw(true);
      if (mode === 'bar') write('\n');
    },
  };
}
