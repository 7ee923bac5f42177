// Gives memory back once a busy spell is over. V8 keeps the pages its
// collector freed for reuse and hands them back to the system only in a
// memory-reducing collection, which its own memory reducer seldom starts in a
// Node.js program that goes quiet (Node does not tell V8 when it is idle).
// Measured with bench/memory.mjs (docs/BENCHMARKS.md): after the load and 100
// functions deployed and removed, the gateway held 124 MiB of anonymous
// memory, 61 MiB after one such collection (80 ms); the queue worker 55 -> 44,
// the connector 52 -> 44.
//
// Every interval: when the event loop has been nearly idle for the quiet
// time (a minute by default) and the resident memory has grown by 4 MiB
// since the last reduction, one last-resort collection (a pause of 50-100
// ms, only while idle). Not sooner: such a collection also drops the code V8
// optimized and shrinks the young generation to its least, so the next busy
// spell runs slower for its first ~10 s while V8 grows and optimizes them
// again (+25-50 % CPU per call in the gateway; docs/BENCHMARKS.md). A
// program reduced after every short pause would pay that on every burst.
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';

/** V8's gc() of --expose-gc; flavor 'last-resort' makes it memory-reducing. */
export type Collect = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

/** Growth of the resident memory since the last reduction that makes another worth its pause. */
export const GROWTH_BYTES = 4 << 20;
/** The event loop's busy share over an interval below which the program counts as idle. */
export const IDLE_BELOW = 0.05;

/** V8's gc(): the exposed one, or one from a context made after exposing it (the way Node's v8 docs show). */
export function collector(): Collect | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') return exposed as Collect;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Collect) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether to collect now: idle for the quiet time (one interval at least, whatever it is set to), and grown enough since the last reduction. */
export function shouldReduce(state: { quietMs: number; quietNeededMs: number; rss: number; rssAfterLast: number }): boolean {
  return state.quietMs > 0 && state.quietMs >= state.quietNeededMs && state.rss - state.rssAfterLast >= GROWTH_BYTES;
}

export interface MemoryReducerParts {
  intervalMs: number;
  /** How long the event loop must have been nearly idle, in whole intervals, before a reduction. */
  quietMs: number;
  log: Logger;
  collect?: Collect | undefined;
  rss?: () => number;
  /** The event loop's busy share since the previous call. */
  utilization?: () => number;
}

export class MemoryReducer {
  private timer: NodeJS.Timeout | undefined;
  /** 0 at first: the first quiet time gives back what starting up left. */
  private rssAfterLast = 0;
  /** How long the event loop has been nearly idle, up to now (whole intervals). */
  private quietMs = 0;
  private readonly collect: Collect | undefined;
  private readonly rss: () => number;
  private readonly utilization: () => number;

  constructor(private readonly parts: MemoryReducerParts) {
    this.collect = 'collect' in parts ? parts.collect : collector();
    this.rss = parts.rss ?? (() => process.memoryUsage.rss());
    let last: EventLoopUtilization = performance.eventLoopUtilization();
    this.utilization =
      parts.utilization ??
      (() => {
        const now = performance.eventLoopUtilization();
        const share = performance.eventLoopUtilization(now, last).utilization;
        last = now;
        return share;
      });
  }

  start(): void {
    if (this.parts.intervalMs <= 0 || this.timer) return;
    if (!this.collect) {
      this.parts.log.warn('memory reduction off: V8 offers no gc() here');
      return;
    }
    this.utilization(); // the first interval is measured from now
    this.timer = setInterval(() => this.check(), this.parts.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One look; true when it collected. */
  check(): boolean {
    const utilization = this.utilization();
    this.quietMs = utilization < IDLE_BELOW ? this.quietMs + this.parts.intervalMs : 0;
    const rss = this.rss();
    if (!this.collect || !shouldReduce({ quietMs: this.quietMs, quietNeededMs: this.parts.quietMs, rss, rssAfterLast: this.rssAfterLast })) return false;
    const started = performance.now();
    this.collect({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    this.rssAfterLast = this.rss();
    this.parts.log.debug({ rssBefore: rss, rssAfter: this.rssAfterLast, ms: Math.round(performance.now() - started) }, 'memory given back while idle');
    return true;
  }
}
