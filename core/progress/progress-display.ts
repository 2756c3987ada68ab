import { LocalEventStream, type DistillEvent, type EventListener, type EventStream } from '../services/event-stream.js';
import { emptyProgressState, foldProgressEvent, progressLines } from './progress-lines.js';

/** How progress is shown: a live redrawn block, plain lines (not a terminal), or JSON events. */
export type ProgressMode = 'live' | 'plain' | 'json';

/** Where a display writes, and how often it may redraw. */
export interface ProgressDisplayOptions {
  readonly mode: ProgressMode;
  readonly write?: (text: string) => void;
  /** Smallest gap between two redraws (live) or two progress lines (plain). */
  readonly intervalMilliseconds?: number;
  readonly now?: () => number;
}

/** The mode for a stream: JSON when asked, live on a terminal, plain lines otherwise. */
export function progressModeFor(json: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressMode {
  if (json) return 'json';
  return stream.isTTY ? 'live' : 'plain';
}

/**
 * The one progress display for every command (`teach`, `train`, `run`): it only reads the event
 * stream. JSON mode writes each event as a line (stdout); live mode redraws a block in place;
 * plain mode prints stage changes at once and progress lines at most every `intervalMilliseconds`.
 * Returns a function that stops listening and draws the final state.
 */
export function attachProgressDisplay(events: EventStream, options: ProgressDisplayOptions): () => void {
  const now = options.now ?? Date.now;
  if (options.mode === 'json') {
    const write = options.write ?? ((text: string) => process.stdout.write(text));
    return events.subscribe((event) => write(JSON.stringify(event) + '\n'));
  }
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const interval = options.intervalMilliseconds ?? (options.mode === 'live' ? 100 : 5000);
  const state = emptyProgressState();
  let drawnLines = 0;
  let lastDraw = Number.NEGATIVE_INFINITY;
  const lastPlain = new Map<string, string>();

  const takeNotices = () =>
    state.notices
      .splice(0)
      .map((notice) => notice + '\n')
      .join('');
  const drawLive = () => {
    const lines = progressLines(state);
    const clear = drawnLines > 0 ? `\x1b[${drawnLines}F\x1b[J` : '';
    // Notices are printed above the block, where they stay when it is redrawn.
    write(clear + takeNotices() + lines.map((line) => line + '\n').join(''));
    drawnLines = lines.length;
    lastDraw = now();
  };
  const drawPlain = (event: DistillEvent, force: boolean) => {
    const lines = progressLines(state).map((line) => line.replace(/^\[[#.]+\]\s+\d+% /, ''));
    const printed: string[] = state.notices.splice(0);
    if (event.type.startsWith('stage.') && typeof event.stage === 'string')
      printed.push(`${event.stage}: ${state.stages.get(event.stage)}`);
    else if (force || now() - lastDraw >= interval) {
      for (const line of lines.slice(state.stages.size > 0 ? 1 : 0)) {
        const key = line.split(' ')[0]!;
        if (lastPlain.get(key) !== line) printed.push(line);
        lastPlain.set(key, line);
      }
      lastDraw = now();
    }
    if (printed.length > 0) write(printed.map((line) => line + '\n').join(''));
  };

  const unsubscribe = events.subscribe((event) => {
    if (!foldProgressEvent(state, event)) return;
    if (options.mode === 'live') {
      if (event.type.startsWith('stage.') || state.notices.length > 0 || now() - lastDraw >= interval) drawLive();
    } else {
      drawPlain(event, false);
    }
  });
  return () => {
    unsubscribe();
    if (options.mode === 'live') drawLive();
    else drawPlain({ type: 'final', time: now() }, true);
  };
}

/**
 * The display as a listener, for core functions that take one (`teachPipeline`, `runPipeline`,
 * `runPipeline`): pass `listener` to them and call `finish` when they return.
 */
export function progressListener(options: ProgressDisplayOptions): { listener: EventListener; finish: () => void } {
  const stream = new LocalEventStream(options.now);
  const finish = attachProgressDisplay(stream, options);
  return { listener: (event) => stream.emit(event.type, event), finish };
}
