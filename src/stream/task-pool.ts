/**
 * Bounded concurrency for the stream ends that do async work per item (the sink's encode-and-write, verify's
 * compare, export's decode): at most `concurrency` tasks run at once. A Writable that calls its write callback
 * from inside the task, once it has a slot, passes backpressure on to the stream feeding it.
 */
import pLimit from 'p-limit';

export interface TaskPool {
  /** Runs `task` once one of the slots is free. After a task has failed, tasks still queued are skipped. */
  run(task: () => Promise<void>): void;
  /** The first error a task threw, if any. */
  readonly error: unknown;
  /** Resolves once every task run so far has settled (never rejects: see {@link error}). */
  drain(): Promise<void>;
}

/** A pool of `concurrency` slots; `onError` hears the first failure (e.g. to destroy the stream). */
export function taskPool(concurrency: number, onError: (error: unknown) => void = () => undefined): TaskPool {
  const limit = pLimit(concurrency);
  const inflight = new Set<Promise<void>>();
  let failed = false;
  let first: unknown;
  return {
    get error() {
      return first;
    },
    run(task) {
      // The failure is recorded inside the slot, before p-limit starts the next queued task.
      const job = limit(async () => {
        if (failed) return;
        try {
          await task();
        } catch (error) {
          if (failed) return;
          failed = true;
          first = error;
          onError(error);
        }
      });
      inflight.add(job);
      void job.finally(() => inflight.delete(job));
    },
    async drain() {
      while (inflight.size > 0) await Promise.all(inflight);
    },
  };
}
