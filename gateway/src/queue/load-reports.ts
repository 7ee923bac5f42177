// Every program's load, told to every gateway within a second: each program
// that invokes functions (the gateways, the queue workers, the connectors)
// publishes, every REPORT_EVERY_MS, each function's calls in flight and
// waiting and its average demand since the last report
// (core/invocation/load.ts) on "faas-internal.load" (core NATS, no storage:
// a lost report is replaced by the next). Every gateway subscribes and keeps
// the latest report of each sender; a sender not heard from for
// STALE_AFTER_MS (stopped, cut off) no longer counts. Capacity scaling
// (programs/gateway/scaling/capacity-scaler.ts) sums them: Prometheus,
// scraping every 5 s, would be too slow for a burst.
//
// The gateways also learn here which of them decides capacity scaling (the
// one with the smallest sender id among those heard from), so that two
// gateways do not make opposite changes one after the other.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { FunctionLoadReport } from '../core/invocation/load.js';
import type { QueueConnection } from './connection.js';

export const LOAD_SUBJECT = 'faas-internal.load';
/** How often each program reports. */
export const REPORT_EVERY_MS = 500;
/** A sender whose last report is older than this is gone: its figures no longer count. */
export const STALE_AFTER_MS = 2_000;

export type SenderRole = 'gateway' | 'queue-worker' | 'connector';

export interface LoadReport {
  sender: string;
  role: SenderRole;
  functions: Record<string, FunctionLoadReport>;
}

/** A sender id: its role and a random part (unique across hosts and restarts). */
export function senderId(role: SenderRole): string {
  return `${role}-${randomUUID().slice(0, 8)}`;
}

/** What a program reports: its own figures, taken every REPORT_EVERY_MS. */
export class LoadReporter {
  private timer: NodeJS.Timeout | undefined;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly connection: QueueConnection | undefined,
    readonly sender: string,
    private readonly role: SenderRole,
    private readonly take: () => Record<string, FunctionLoadReport>,
    private readonly log: Logger,
    /** Also told of each report (the gateway's own board: its figures count even without NATS). */
    private readonly local?: (report: LoadReport) => void,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.report(), REPORT_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes the figures and sends them (now; the timer does this every REPORT_EVERY_MS). */
  report(): LoadReport {
    const report: LoadReport = { sender: this.sender, role: this.role, functions: this.take() };
    this.local?.(report);
    const connection = this.connection;
    if (connection?.isConnected) {
      void connection
        .handles(0)
        .then(({ nc }) => nc.publish(LOAD_SUBJECT, this.encoder.encode(JSON.stringify(report))))
        .catch((error: unknown) => this.log.debug({ err: error }, 'load report not sent'));
    }
    return report;
  }
}

/** The sum of every fresh sender's figures for one function. */
export interface FunctionLoadSum {
  /** Average demand (in flight + waiting) over the senders' last periods. */
  demand: number;
  inflight: number;
  waiting: number;
  /** In flight per instance address (functions with a concurrency limit). */
  byInstance: Map<string, number>;
}

interface Heard {
  report: LoadReport;
  at: number;
}

/** The gateway's side: the latest report of every sender, and when each function was last busy anywhere. */
export class LoadBoard {
  private readonly latest = new Map<string, Heard>();
  private readonly busyAt = new Map<string, number>();
  private stopSubscription: (() => void) | undefined;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly connection: QueueConnection | undefined,
    readonly self: string,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Subscribes once NATS answers (waiting as long as it takes); without NATS the board holds this gateway's own reports only. */
  async start(): Promise<void> {
    if (!this.connection) return;
    let handles;
    while (!handles && !this.stopped) handles = await this.connection.handles(30_000).catch(() => undefined);
    if (!handles || this.stopped) return;
    const subscription = handles.nc.subscribe(LOAD_SUBJECT, {
      callback: (error, msg) => {
        if (error) return;
        try {
          const report = JSON.parse(this.decoder.decode(msg.data)) as LoadReport;
          if (typeof report.sender !== 'string' || report.sender === this.self || typeof report.functions !== 'object' || report.functions === null) return;
          this.accept(report);
        } catch (parseError) {
          this.log.debug({ err: parseError }, 'a load report that is not one: ignored');
        }
      },
    });
    this.stopSubscription = () => subscription.unsubscribe();
  }

  private stopped = false;

  stop(): void {
    this.stopped = true;
    this.stopSubscription?.();
  }

  /** A report arrived (from NATS, or this gateway's own). */
  accept(report: LoadReport): void {
    const at = this.now();
    this.latest.set(report.sender, { report, at });
    for (const [key, figures] of Object.entries(report.functions)) {
      if (figures.d > 0 || figures.i > 0 || figures.w > 0 || figures.s > 0) this.busyAt.set(key, at);
    }
  }

  /**
   * Whether the figures cover every program: NATS is connected (or there is
   * none: this gateway is alone). Decisions wait while it is not.
   */
  get complete(): boolean {
    return !this.connection || this.connection.isConnected;
  }

  /** The function's figures summed over every sender heard from in the last STALE_AFTER_MS. */
  sum(key: string): FunctionLoadSum {
    const sum: FunctionLoadSum = { demand: 0, inflight: 0, waiting: 0, byInstance: new Map() };
    const now = this.now();
    for (const [sender, { report, at }] of this.latest) {
      if (now - at > STALE_AFTER_MS) {
        if (now - at > 10 * STALE_AFTER_MS) this.latest.delete(sender);
        continue;
      }
      const figures = report.functions[key];
      if (!figures) continue;
      sum.demand += figures.d;
      sum.inflight += figures.i;
      sum.waiting += figures.w;
      for (const [address, count] of Object.entries(figures.a ?? {})) sum.byInstance.set(address, (sum.byInstance.get(address) ?? 0) + count);
    }
    return sum;
  }

  /** When any program last reported the function busy (calls in flight, waiting or begun); undefined: not since this gateway started. */
  lastBusy(key: string): number | undefined {
    return this.busyAt.get(key);
  }

  forget(key: string): void {
    this.busyAt.delete(key);
  }

  /** This gateway decides capacity scaling: it has the smallest id of the gateways heard from lately. */
  get decides(): boolean {
    const now = this.now();
    for (const [sender, { report, at }] of this.latest) {
      if (report.role === 'gateway' && sender < this.self && now - at <= STALE_AFTER_MS) return false;
    }
    return true;
  }
}
