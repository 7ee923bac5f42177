// When each function was last used (invoked, woken, scaled up) and last
// invoked. The idler puts a function to sleep only after its idle period has
// passed since its last use; a repeated firing alert steps a function up only
// while invocations still arrive.
import type { Clock } from './clock.js';

export class ActivityLog {
  private readonly lastUse = new Map<string, number>();
  private readonly lastInvocation = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /** The function was used in some way (woken, scaled up by hand or by an alert). */
  touch(name: string): void {
    this.lastUse.set(name, this.clock.now());
  }

  /** The function was invoked through this gateway. */
  invoked(name: string): void {
    const now = this.clock.now();
    this.lastUse.set(name, now);
    this.lastInvocation.set(name, now);
  }

  /** Milliseconds since the function was last used; undefined when never seen. */
  idleFor(name: string): number | undefined {
    const last = this.lastUse.get(name);
    return last === undefined ? undefined : this.clock.now() - last;
  }

  /** Milliseconds since the last invocation through this gateway; undefined when none. */
  sinceInvocation(name: string): number | undefined {
    const last = this.lastInvocation.get(name);
    return last === undefined ? undefined : this.clock.now() - last;
  }

  forget(name: string): void {
    this.lastUse.delete(name);
    this.lastInvocation.delete(name);
  }
}
