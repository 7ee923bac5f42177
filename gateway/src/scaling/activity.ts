// When each function was last used (invoked, woken, scaled up): the idler
// puts a function to sleep only after its idle period has passed since then.
import type { Clock } from './clock.js';

export class ActivityLog {
  private readonly last = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  touch(name: string): void {
    this.last.set(name, this.clock.now());
  }

  /** Milliseconds since the function was last used; undefined when never seen. */
  idleFor(name: string): number | undefined {
    const last = this.last.get(name);
    return last === undefined ? undefined : this.clock.now() - last;
  }

  forget(name: string): void {
    this.last.delete(name);
  }
}
