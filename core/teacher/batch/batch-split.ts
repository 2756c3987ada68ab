import { UserError } from '../../errors/user-error.js';
import type { BatchItem, BatchLimits } from '../../plugins/kinds/teacher-batch.js';

/** The most requests and bytes one batch may hold: the provider's limits, and the pipeline's own cap on requests. */
export interface BatchSize {
  readonly limits: BatchLimits;
  /** `teacher.batch.max_requests_per_batch`, when set. */
  readonly maxRequestsPerBatch?: number;
}

/**
 * Splits items into batches in their order, each within the provider's requests and bytes per batch
 * (bytes as `itemBytes` counts them: one JSONL line, one request object) and the pipeline's cap. An
 * item that alone is over the bytes limit can never be sent: a {@link UserError} naming its example,
 * before anything is submitted.
 */
export function splitIntoBatches(
  items: readonly BatchItem[],
  size: BatchSize,
  itemBytes: (item: BatchItem) => number,
  pluginId: string,
): BatchItem[][] {
  const maxRequests = Math.max(1, Math.min(size.limits.maxRequests, size.maxRequestsPerBatch ?? Number.POSITIVE_INFINITY));
  const batches: BatchItem[][] = [];
  let current: BatchItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const itemSize = itemBytes(item);
    if (itemSize > size.limits.maxBytes) {
      throw new UserError({
        message: `the batch request of example "${item.request.exampleId}" (split ${item.request.split}) takes ${itemSize} bytes, more than the ${size.limits.maxBytes} bytes the provider allows in one batch`,
        pointer: '/teacher/mode',
        plugin: `teacher/${pluginId}`,
        fix: 'shorten the prompt (fewer shots, a shorter template) or label this dataset with teacher.mode: realtime',
      });
    }
    if (current.length > 0 && (current.length >= maxRequests || bytes + itemSize > size.limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += itemSize;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
