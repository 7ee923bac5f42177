// At most BUILD_CONCURRENCY builds at once; the others wait in arrival order
// and are told where they stand each time the line moves.

export interface Waiting {
  /** Called with the number of builds still ahead of this one (running ones included) whenever it changes. */
  onPosition(ahead: number): void;
  /** Aborts the wait (the client went away): the slot is not taken. */
  signal?: AbortSignal;
}

export class QueueFull extends Error {}

export class BuildSlots {
  private running = 0;
  private readonly queue: { grant: () => void; notify: (ahead: number) => void }[] = [];

  constructor(
    readonly capacity: number,
    /** Requests that may wait at once; beyond, acquire() throws QueueFull. */
    readonly maxWaiting: number,
  ) {}

  get active(): number {
    return this.running;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves with a release function once a slot is this caller's; rejects when aborted or the line is full. */
  acquire(waiting: Waiting): Promise<() => void> {
    if (this.running < this.capacity && this.queue.length === 0) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.maxWaiting) return Promise.reject(new QueueFull(`${this.queue.length} builds are waiting already (BUILD_QUEUE)`));
    return new Promise((resolve, reject) => {
      const entry = {
        grant: () => {
          waiting.signal?.removeEventListener('abort', onAbort);
          this.running++;
          resolve(this.releaser());
        },
        notify: waiting.onPosition,
      };
      const onAbort = () => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        this.announce();
        reject(new Error('the wait for a build slot was abandoned'));
      };
      if (waiting.signal?.aborted) return reject(new Error('the wait for a build slot was abandoned'));
      waiting.signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
      entry.notify(this.running + this.queue.length - 1);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      const next = this.queue.shift();
      if (next) next.grant();
      this.announce();
    };
  }

  /** Tells every waiting request its new place. */
  private announce(): void {
    this.queue.forEach((entry, i) => entry.notify(this.running + i));
  }
}
