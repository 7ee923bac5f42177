// A function's schedule: at each tick every connector replica publishes one
// message to faas-cron with the same message id (the function and the tick's
// time), so JetStream stores the tick once; the function's consumer (a work
// queue, durable.ts) then hands it to one replica. Two connectors, or one
// restarted, never run a tick twice.
import type { ScheduledFunction } from '../../core/events/triggers.js';
import { tickId } from '../../core/events/triggers.js';
import type { ConnectorDeps } from './deps.js';

/** A timer further off than this is set in steps (setTimeout holds at most ~24.8 days, and a clock may be moved). */
const LONGEST_WAIT_MS = 60_000;

export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly name: string;

  constructor(
    private readonly deps: ConnectorDeps,
    private readonly job: ScheduledFunction,
  ) {
    this.name = deps.nameOf(job.ref);
  }

  start(): void {
    this.arm(Date.now());
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Waits for the first tick after `after`. */
  private arm(after: number): void {
    if (this.stopped) return;
    const tick = this.job.schedule.next(after);
    if (tick === undefined) return;
    const wait = tick - Date.now();
    this.timer = setTimeout(() => {
      if (Date.now() < tick) return this.arm(after); // a long wait in steps
      // A tick missed by more than a few seconds (the process stalled) is not made up for: the next one from now.
      if (Date.now() - tick < 5_000) void this.publish(tick);
      this.arm(Math.max(tick, Date.now() - 1));
    }, Math.max(0, Math.min(wait, LONGEST_WAIT_MS)));
    this.timer.unref();
  }

  private async publish(tick: number): Promise<void> {
    const { events, metrics, log } = this.deps;
    try {
      await events.publishTick(this.job.subject, tickId(this.job.ref, tick), { 'X-Scheduled-At': [new Date(tick).toISOString()] });
      metrics.ticks.inc({ function_name: this.name });
    } catch (error) {
      log.warn({ err: error, function: this.name, tick: new Date(tick).toISOString() }, 'tick not published (NATS away?): the other connectors publish it too');
    }
  }
}
