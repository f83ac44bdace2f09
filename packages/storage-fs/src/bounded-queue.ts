/** A task of {@link runBounded}; it may queue more tasks with `add`. */
export type QueuedTask = (add: (task: QueuedTask) => void) => Promise<void>;

/**
 * Runs `first` and every task the tasks add, at most `limit` at a time, and settles when all are
 * done. The first failure rejects at once; tasks already running finish, queued ones never start.
 */
export function runBounded(limit: number, first: QueuedTask): Promise<void> {
  const queue: QueuedTask[] = [first];
  const add = (task: QueuedTask): void => {
    queue.push(task);
  };
  let running = 0;
  let failed = false;
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      if (failed) return;
      if (queue.length === 0 && running === 0) {
        resolve();
        return;
      }
      while (running < limit && queue.length > 0) {
        const task = queue.shift()!;
        running += 1;
        task(add).then(
          () => {
            running -= 1;
            pump();
          },
          (error: unknown) => {
            failed = true;
            reject(error);
          },
        );
      }
    };
    pump();
  });
}
