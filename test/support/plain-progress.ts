import { attachProgressDisplay } from '../../core/progress/progress-display.js';
import { LocalEventStream } from '../../core/services/event-stream.js';

/** A plain-mode progress display on its own event stream, with a clock the test moves and its output kept. */
export interface PlainProgress {
  readonly events: LocalEventStream;
  /** Everything the display wrote, one entry per write. */
  readonly output: string[];
  /** Sets the clock both the events and the display read. */
  readonly setTime: (milliseconds: number) => void;
  /** Detaches the display (flushing what it holds). */
  readonly stop: () => void;
}

/** Attaches a plain-mode display that redraws progress lines at most every `intervalMilliseconds` of the test's clock. */
export function plainProgress(intervalMilliseconds: number): PlainProgress {
  let time = 0;
  const events = new LocalEventStream(() => time);
  const output: string[] = [];
  const stop = attachProgressDisplay(events, {
    mode: 'plain',
    write: (text) => output.push(text),
    intervalMilliseconds,
    now: () => time,
  });
  return { events, output, stop, setTime: (milliseconds) => (time = milliseconds) };
}
