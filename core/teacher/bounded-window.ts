/**
 * Works through `items` with at most `size` of them in progress at once: enough to keep a request
 * engine busy, never the whole dataset in memory. Stops taking new items once `stopped()` says so,
 * and returns when every item taken has finished. `work` must not reject (it handles its errors).
 *
 * A full window waits for one item to finish through a single resolver, not `Promise.race` over
 * the items in progress, which would hang a reaction on every one of them for every item started
 * (window × items in all).
 */
export async function inBoundedWindow<Item>(
  items: AsyncIterable<Item>,
  size: number,
  stopped: () => boolean,
  work: (item: Item) => Promise<void>,
): Promise<void> {
  const pending = new Set<Promise<void>>();
  let slotFreed: (() => void) | null = null;
  try {
    for await (const item of items) {
      if (stopped()) break;
      const task: Promise<void> = work(item).finally(() => {
        pending.delete(task);
        slotFreed?.();
      });
      pending.add(task);
      if (pending.size >= size) {
        await new Promise<void>((resolve) => (slotFreed = resolve));
        slotFreed = null;
      }
    }
  } finally {
    await Promise.allSettled(pending);
  }
}
