import { createLogUpdate } from 'log-update';
import { LocalEventStream, type DistillEvent, type EventListener, type EventStream } from '../services/event-stream.js';
import { emptyProgressState, foldProgressEvent, progressLines, type ProgressState } from './progress-lines.js';

/** How progress is shown: a live redrawn block, plain lines (not a terminal), or JSON events. */
export type ProgressMode = 'live' | 'plain' | 'json';

/** A terminal stream a live display redraws on: its width, when it knows it. */
export type TerminalStream = NodeJS.WritableStream & { readonly columns?: number; readonly rows?: number; readonly isTTY?: boolean };

/** Where a display writes, and how often it may redraw. */
export interface ProgressDisplayOptions {
  readonly mode: ProgressMode;
  /** Where plain lines and JSON events go (default: stderr, JSON to stdout). */
  readonly write?: (text: string) => void;
  /** The terminal a live display redraws on (default: stderr). */
  readonly stream?: TerminalStream;
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
 * The live block, redrawn in place by log-update on a terminal. Every line is cut to the terminal's
 * width at each redraw: a line the terminal wrapped would take two rows, and a redraw that erased one
 * would leave a copy behind. Notices are printed above the block, where they stay.
 */
function liveDisplay(state: ProgressState, stream: TerminalStream): { draw: () => void; finish: () => void } {
  const render = createLogUpdate(stream);
  const draw = () => {
    const notices = state.notices.splice(0);
    if (notices.length > 0) render.persist(notices.join('\n'));
    const lines = progressLines(state, stream.columns ?? 80);
    if (lines.length > 0) render(lines.join('\n'));
  };
  return {
    draw,
    finish: () => {
      draw();
      // The block stays as it was last drawn; the cursor comes back.
      render.done();
    },
  };
}

/**
 * The one progress display for every command (`teach`, `train`, `run`): it only reads the event
 * stream. JSON mode writes each event as a line (stdout); live mode redraws a block in place;
 * plain mode prints stage changes at once and progress lines at most every `intervalMilliseconds`,
 * and the last progress of a stage before the stage's change, so that lines come in the order
 * things happened. Returns a function that stops listening and draws the final state.
 */
export function attachProgressDisplay(events: EventStream, options: ProgressDisplayOptions): () => void {
  const now = options.now ?? Date.now;
  if (options.mode === 'json') {
    const write = options.write ?? ((text: string) => process.stdout.write(text));
    return events.subscribe((event) => write(JSON.stringify(event) + '\n'));
  }
  const interval = options.intervalMilliseconds ?? (options.mode === 'live' ? 100 : 5000);
  const state = emptyProgressState();
  let lastDraw = Number.NEGATIVE_INFINITY;

  if (options.mode === 'live') {
    const live = liveDisplay(state, options.stream ?? process.stderr);
    const unsubscribe = events.subscribe((event) => {
      if (!foldProgressEvent(state, event)) return;
      if (event.type.startsWith('stage.') || state.notices.length > 0 || now() - lastDraw >= interval) {
        live.draw();
        lastDraw = now();
      }
    });
    return () => {
      unsubscribe();
      live.finish();
    };
  }

  const write = options.write ?? ((text: string) => process.stderr.write(text));
  const lastPlain = new Map<string, string>();
  /** The progress lines that changed since they were last printed. */
  const changedLines = (): string[] => {
    const changed: string[] = [];
    const lines = progressLines(state).map((line) => line.replace(/^\[[#.]+\]\s+\d+% /, ''));
    for (const line of lines.slice(state.stages.size > 0 ? 1 : 0)) {
      // A line is known by its first word; the indented ones (one per live batch) by their first two, the batch id.
      const key = line.startsWith(' ') ? line.trim().split(/\s+/).slice(0, 2).join(' ') : line.split(' ')[0]!;
      if (lastPlain.get(key) !== line) changed.push(line);
      lastPlain.set(key, line);
    }
    return changed;
  };
  const drawPlain = (event: DistillEvent, force: boolean) => {
    const printed: string[] = state.notices.splice(0);
    if (event.type.startsWith('stage.') && typeof event.stage === 'string') {
      printed.push(...changedLines(), `${event.stage}: ${state.stages.get(event.stage)}`);
    } else if (force || now() - lastDraw >= interval) {
      const changed = changedLines();
      printed.push(...changed);
      if (changed.length > 0) lastDraw = now();
    }
    if (printed.length > 0) write(printed.map((line) => line + '\n').join(''));
  };
  const unsubscribe = events.subscribe((event) => {
    if (foldProgressEvent(state, event)) drawPlain(event, false);
  });
  return () => {
    unsubscribe();
    drawPlain({ type: 'final', time: now() }, true);
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
