// Invocations in flight for one function, at most `limit`, the rest waiting in
// order (at most `maxWaiting`; beyond, a task is refused): for triggers that
// take messages faster than a function may be invoked (at-most-once topics).
export class Gate {
  private inflight = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    public limit: number,
    private readonly maxWaiting: number,
  ) {}

  /** Runs `task` when there is room; false when the wait list is full (the task is not run). */
  run(task: () => Promise<void>): boolean {
    const start = () => {
      this.inflight++;
      void task().finally(() => {
        this.inflight--;
        const next = this.waiting.shift();
        if (next) next();
      });
    };
    if (this.inflight < this.limit) {
      start();
      return true;
    }
    if (this.waiting.length >= this.maxWaiting) return false;
    this.waiting.push(start);
    return true;
  }

  get busy(): number {
    return this.inflight + this.waiting.length;
  }
}
