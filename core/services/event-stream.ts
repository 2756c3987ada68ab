/**
 * The one progress/event stream of a run. The terminal display, `--json` output and the run's
 * metrics file all read it, so every stage reports through here rather than printing.
 */
export interface DistillEvent {
  /** Dotted event type, e.g. `stage.start`, `teacher.request`, `train.progress`. */
  readonly type: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  /** Event-specific payload. */
  readonly [field: string]: unknown;
}

/** A listener of {@link DistillEvent}s. */
export type EventListener = (event: DistillEvent) => void;

/** Publish/subscribe for {@link DistillEvent}s. */
export interface EventStream {
  emit(type: string, fields?: Record<string, unknown>): void;
  subscribe(listener: EventListener): () => void;
}

/** A synchronous in-process event stream. */
export class LocalEventStream implements EventStream {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly now: () => number = Date.now) {}

  emit(type: string, fields: Record<string, unknown> = {}): void {
    const event: DistillEvent = { ...fields, type, time: this.now() };
    for (const listener of this.listeners) listener(event);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
