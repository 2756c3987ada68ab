import type { DistillEvent } from '../services/event-stream.js';
import { estimateRemaining, formatDuration } from './format-duration.js';

/** State folded from the event stream: what a progress display shows. */
export interface ProgressState {
  /** Stage name → `running`, `done`, `reused`, `failed`. */
  readonly stages: Map<string, string>;
  teacher: DistillEvent | null;
  training: DistillEvent | null;
  bestValidation: number | null;
  /** Batch mode: each live batch's last `teacher.batch_submitted` or `teacher.batch_status` event, by batch id. */
  readonly batches: Map<string, DistillEvent>;
  /** Batch mode: batches collected in this run. */
  collectedBatches: number;
  /** One-off messages (a resumed stage, a sweep point) not yet shown. */
  readonly notices: string[];
}

/** A fresh state. */
export function emptyProgressState(): ProgressState {
  return { stages: new Map(), teacher: null, training: null, bestValidation: null, batches: new Map(), collectedBatches: 0, notices: [] };
}

const number = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/**
 * An event field in a notice. Events are loosely typed; the fields notices name are numbers or text
 * (a missing one reads `undefined`, as in any template), and anything else is shown as JSON.
 */
function shown(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return JSON.stringify(value);
}

/** Folds one event into the state; returns whether anything shown changed. */
export function foldProgressEvent(state: ProgressState, event: DistillEvent): boolean {
  const stage = typeof event.stage === 'string' ? event.stage : null;
  switch (event.type) {
    case 'stage.start':
      if (stage) state.stages.set(stage, 'running');
      if (stage === 'trainer') {
        state.training = null;
        state.bestValidation = null;
      }
      return true;
    case 'stage.done':
      if (stage) state.stages.set(stage, 'done');
      return true;
    case 'stage.reused':
      if (stage) state.stages.set(stage, 'reused');
      return true;
    case 'stage.failed':
      if (stage) state.stages.set(stage, 'failed');
      return true;
    case 'stage.stopped':
      if (stage) state.stages.set(stage, 'stopped');
      return true;
    case 'teacher.progress':
      state.teacher = event;
      return true;
    case 'teacher.start':
      if ((number(event.resumed) ?? 0) > 0)
        state.notices.push(`teacher: resuming, ${shown(event.resumed)} of ${shown(event.total)} examples already done`);
      return true;
    case 'teacher.cache_missing':
      state.notices.push(
        `warning: the teacher cache ${shown(event.file)} held ${shown(event.entries)} answers when this run folder last used it (${shown(event.noted_at)}) and is gone: answers not in this run's records will be paid for again; if it moved, stop (Ctrl+C) and set cache.path or DISTILL_CACHE_DIR to it`,
      );
      return true;
    case 'teacher.spill_imported':
      state.notices.push(
        `teacher: ${shown(event.answers)} answers that the cache could not take last time were imported into it from ${shown(event.file)}`,
      );
      return true;
    case 'teacher.batch_submitted':
    case 'teacher.batch_status':
    case 'teacher.batch_collected':
    case 'teacher.batch_failed':
    case 'teacher.batch_stopped':
    case 'teacher.batch_recovered':
      foldBatchEvent(state, event);
      return true;
    case 'stage.partial':
      if (stage) state.stages.set(stage, 'partial');
      return true;
    case 'sweep.point': {
      // A new student: the last one's step and best validation accuracy are not this one's.
      state.training = null;
      // 0 drops nothing for its confidence, as in a sweep without the axis.
      const minConfidence = event.min_confidence ? `, min confidence ${shown(event.min_confidence)}` : '';
      state.bestValidation = null;
      state.notices.push(
        `sweep ${shown(event.index)}/${shown(event.total)}: ${shown(event.mode)}, data ${shown(event.data_fraction)}, rationale rate ${shown(event.rationale_rate)}, alpha ${shown(event.alpha ?? 'of the loss')}${minConfidence}, seed ${shown(event.seed)}`,
      );
      return true;
    }
    case 'train.progress':
      state.training = event;
      return true;
    case 'train.evaluation': {
      const accuracy = number(event.accuracy);
      if (accuracy !== null && event.split !== 'test' && (state.bestValidation === null || accuracy > state.bestValidation)) {
        state.bestValidation = accuracy;
      }
      return true;
    }
    default:
      return false;
  }
}

/** Folds a batch-mode event (`teacher.batch_*`) into the state. */
function foldBatchEvent(state: ProgressState, event: DistillEvent): void {
  const batch = shown(event.batch);
  switch (event.type) {
    case 'teacher.batch_submitted':
      state.batches.set(batch, { ...event, provider_state: 'submitted', succeeded: 0, failed: 0, total: event.requests });
      break;
    case 'teacher.batch_status':
      if (event.state === 'running') state.batches.set(batch, event);
      break;
    case 'teacher.batch_collected':
      state.batches.delete(batch);
      state.collectedBatches++;
      break;
    case 'teacher.batch_failed':
      state.batches.delete(batch);
      state.notices.push(
        `teacher: the provider failed batch ${batch} as a whole (${shown(event.reason)}); its requests are submitted again`,
      );
      break;
    case 'teacher.batch_recovered':
      state.notices.push(
        event.batch === null
          ? `teacher: a submission of ${shown(event.requests)} requests never reached the provider; they are submitted again`
          : `teacher: found batch ${batch} (${shown(event.requests)} requests), submitted before a stop; it is collected, not submitted again`,
      );
      break;
    default:
      state.notices.push(
        `teacher: stopped with ${shown(event.batches)} batches (${shown(event.requests)} requests) still at the provider; run the same command again to collect them (nothing is submitted twice)`,
      );
  }
}

/** Batch lines shown at most, so that a run of many batches keeps the display short. */
const batchLinesShown = 6;

/** Batch mode: the count of live and collected batches, then one line per live batch (provider state, succeeded/failed/total). */
export function batchLines(state: ProgressState): string[] {
  if (state.batches.size === 0 && state.collectedBatches === 0) return [];
  const lines = [`batches ${state.batches.size} live  ${state.collectedBatches} collected`];
  for (const [batch, event] of [...state.batches].slice(0, batchLinesShown)) {
    lines.push(
      `  batch ${batch}  ${shown(event.provider_state)}  ${number(event.succeeded) ?? 0} succeeded  ${number(event.failed) ?? 0} failed  of ${number(event.total) ?? '?'}`,
    );
  }
  if (state.batches.size > batchLinesShown) lines.push(`  … ${state.batches.size - batchLinesShown} more`);
  return lines;
}

/** `[############............]  50%` */
export function progressBar(done: number, total: number, width = 24): string {
  const share = total > 0 ? Math.min(1, done / total) : 1;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%`;
}

/**
 * The teacher line: done/total, cached, failed, skipped over budget, dollars, ETA. The ETA uses the
 * pace of this run only (resumed examples took no time now).
 */
export function teacherLine(event: DistillEvent): string {
  const done = number(event.done) ?? 0;
  const total = number(event.total) ?? 0;
  const skipped = number(event.skipped) ?? 0;
  const doneThisRun = number(event.done_this_run) ?? done;
  const left = total - done - skipped;
  const remaining = estimateRemaining(doneThisRun, doneThisRun + left, number(event.elapsed_ms) ?? 0);
  return [
    `teacher ${done}/${total}`,
    `cached ${number(event.cached) ?? 0}`,
    `failed ${number(event.failed) ?? 0}`,
    ...(skipped > 0 ? [`over budget ${skipped}`] : []),
    `$${(number(event.dollars) ?? 0).toFixed(4)}`,
    `ETA ${remaining === null ? '?' : formatDuration(remaining)}`,
  ].join('  ');
}

/** The training line: step/total, loss, tokens per second, ETA, best validation accuracy. */
export function trainingLine(event: DistillEvent, bestValidation: number | null): string {
  const step = number(event.step) ?? 0;
  const total = number(event.total_steps) ?? number(event.max_steps) ?? 0;
  const loss = number(event.loss);
  const tokensPerSecond = number(event.tokens_per_second);
  const remaining =
    number(event.eta_seconds) !== null ? number(event.eta_seconds)! * 1000 : estimateRemaining(step, total, number(event.elapsed_ms) ?? 0);
  return [
    `train step ${step}/${total || '?'}`,
    `loss ${loss === null ? '?' : loss.toFixed(4)}`,
    `tok/s ${tokensPerSecond === null ? '?' : Math.round(tokensPerSecond)}`,
    `ETA ${remaining === null ? '?' : formatDuration(remaining)}`,
    `best val ${bestValidation === null ? '-' : (bestValidation * 100).toFixed(1) + '%'}`,
  ].join('  ');
}

/** The line cut to `columns` characters (graphemes, so an accent or emoji is never split), with `…` where it was cut. */
export function fitLine(line: string, columns: number): string {
  if (line.length <= columns) return line;
  const characters = Array.from(new Intl.Segmenter().segment(line), (segment) => segment.segment);
  return characters.length <= columns ? line : characters.slice(0, Math.max(0, columns - 1)).join('') + '…';
}

/**
 * The stages line within `columns`: spaced out when it fits, tighter when not, and when even that is
 * too long the earliest stages give way (`… export: done · evaluate: running`), so that the running
 * stage, at the end, stays in sight.
 */
export function stageLine(stages: ReadonlyMap<string, string>, columns = Number.POSITIVE_INFINITY): string {
  const parts = [...stages].map(([stage, status]) => `${stage}: ${status}`);
  const wide = parts.join('  ·  ');
  if (wide.length <= columns) return wide;
  for (let first = 0; first < parts.length; first++) {
    const tight = (first > 0 ? '… ' : '') + parts.slice(first).join(' · ');
    if (tight.length <= columns) return tight;
  }
  return fitLine(parts.at(-1)!, columns);
}

/**
 * A line with a bar in front when the terminal has room for one: the full 24-character bar, a
 * shorter one, or the percentage alone, so that the numbers after it are never cut.
 */
function withBar(done: number, total: number, text: string, columns: number): string {
  // `[` bar `] 100% ` then the text: 8 characters besides the bar's.
  const room = columns - text.length - 8;
  if (room >= 8) return `${progressBar(done, total, Math.min(24, room))} ${text}`;
  const share = total > 0 ? Math.min(1, done / total) : 1;
  return `${String(Math.floor(share * 100)).padStart(3)}% ${text}`;
}

/** Every line of the live display, stages first, each within `columns` characters (no limit by default). */
export function progressLines(state: ProgressState, columns = Number.POSITIVE_INFINITY): string[] {
  const lines: string[] = [];
  if (state.stages.size > 0) lines.push(stageLine(state.stages, columns));
  if (state.teacher) {
    const done = number(state.teacher.done) ?? 0;
    lines.push(withBar(done, number(state.teacher.total) ?? 0, teacherLine(state.teacher), columns));
  }
  lines.push(...batchLines(state));
  if (state.training) {
    const total = number(state.training.total_steps) ?? number(state.training.max_steps) ?? 0;
    const text = trainingLine(state.training, state.bestValidation);
    lines.push(total > 0 ? withBar(number(state.training.step) ?? 0, total, text, columns) : text);
  }
  return lines.map((line) => fitLine(line, columns));
}
