/**
 * The stages of a run, in the order data flows through them. Sampling is no stage of its own: it runs
 * inside the trainer stage, so `--only`/`--from` offer only these.
 */
export const stageNames = ['dataset', 'teacher', 'trainer', 'export', 'evaluate'] as const;

/** One of {@link stageNames}. */
export type StageName = (typeof stageNames)[number];

/** Whether a value names a stage. */
export function isStageName(value: unknown): value is StageName {
  return typeof value === 'string' && (stageNames as readonly string[]).includes(value);
}
