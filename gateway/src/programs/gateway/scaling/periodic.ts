// A look at every function, taken every interval by a scaler (the idler, the
// queue scaler, the capacity scaler): never two at once, since a slow
// orchestrator must not pile looks up, and a caller (a test, a wake) may ask
// for one now and wait for its changes.
export abstract class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  /** Milliseconds between two looks (at least 100). */
  protected abstract intervalMs(): number;
  /** One look; resolves when its changes are made. */
  protected abstract look(): Promise<void>;

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.pass(), Math.max(100, this.intervalMs()));
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A look now, or the one under way; resolves when its changes are made. */
  pass(): Promise<void> {
    this.running ??= this.look().finally(() => (this.running = undefined));
    return this.running;
  }
}
