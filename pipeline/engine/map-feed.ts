/**
 * A hand-off of batches from a producer to a consumer that reads one async stream: the process
 * task writes a segment's survivors and gives them, batch by batch, to the next global stage's
 * map, so the map does not read the segment file back.
 */

/**
 * `push` resolves once the consumer has taken every item of the batch (at most one batch is in
 * flight); `end` once the consumer has returned. A consumer that returns before the end does not
 * hold the producer up; its error is thrown by the next `push` or by `end`. `seconds` counts only
 * the time the consumer spent on its items and after the last.
 */
export interface BatchFeed<T> {
  push(batch: T[]): Promise<void>;
  end(): Promise<void>;
  abort(err: unknown): void;
  readonly seconds: number;
}

export function startFeed<T>(consume: (items: AsyncIterable<T>) => Promise<void>): BatchFeed<T> {
  let seconds = 0;
  let waiting: ((b: T[] | null) => void) | null = null;
  let pending: T[] | null | undefined; // a batch not yet taken; null: the end
  let taken: (() => void) | null = null;
  let failure: unknown = null;
  const next = () =>
    new Promise<T[] | null>((resolve) => {
      if (pending !== undefined) {
        const b = pending;
        pending = undefined;
        resolve(b);
      } else waiting = resolve;
    });
  async function* items(): AsyncGenerator<T> {
    for (;;) {
      const b = await next();
      if (b === null) return;
      const t0 = performance.now();
      for (const d of b) yield d;
      seconds += (performance.now() - t0) / 1000;
      const t = taken;
      taken = null;
      t?.();
    }
  }
  const give = (b: T[] | null) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(b);
    } else pending = b;
  };
  let tEnd = 0;
  let finished = false;
  const done = consume(items()).then(
    () => {
      finished = true;
      taken?.();
      if (tEnd) seconds += (performance.now() - tEnd) / 1000;
    },
    (e: unknown) => {
      failure ??= e;
      taken?.();
    },
  );
  const check = () => {
    if (failure) throw failure;
  };
  return {
    async push(b) {
      check();
      if (finished) return;
      await new Promise<void>((resolve) => {
        taken = resolve;
        give(b);
      });
      check();
    },
    async end() {
      check();
      tEnd = performance.now();
      give(null);
      await done;
      check();
    },
    abort(err) {
      failure ??= err;
      give(null);
    },
    get seconds() {
      return seconds;
    },
  };
}
