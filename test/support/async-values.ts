/**
 * The values of a sync iterable as an async iterable, one promise per value: for test doubles of
 * contracts that stream (`Dataset.read`, `Dataset.workedExamples`) whose values are at hand. An
 * `async function*` with nothing to await says the same less plainly (and fails `require-await`).
 * Pass a generator to keep an async generator's behaviour: nothing runs until the first value is
 * asked for, what it throws rejects that promise, and stopping early (`break`) closes it.
 */
export function asyncValues<Value>(values: Iterable<Value>): AsyncIterable<Value> {
  return {
    [Symbol.asyncIterator]: () => {
      const iterator = values[Symbol.iterator]();
      // Through the Promise constructor, so that a throw becomes a rejection, as in an async generator.
      return {
        next: () => new Promise<IteratorResult<Value>>((resolve) => resolve(iterator.next())),
        return: (value?: unknown) =>
          new Promise<IteratorResult<Value>>((resolve) => resolve(iterator.return?.(value) ?? { done: true, value })),
      };
    },
  };
}

/** Reads an async iterable to its end, keeping nothing; resolves to how many values it gave. */
export async function readToEnd(values: AsyncIterable<unknown>): Promise<number> {
  const iterator = values[Symbol.asyncIterator]();
  let count = 0;
  while (!(await iterator.next()).done) count++;
  return count;
}
