// The event connector: follows the functions (the live view, which follows
// Swarm within WATCH_INTERVAL), computes from their annotations the table of
// subscriptions (events/triggers.ts), and brings NATS to it: core
// subscriptions for at-most-once topics, durable consumers for durable
// topics, tickers and consumers for schedules, and the subjects faas-events
// captures. A deploy, an update or a delete is followed as soon as the view
// has it; every few seconds the whole table is applied again (NATS may have
// restarted, another replica may have undone a change of the stream).
//
// JetStream objects of subscriptions that went away (consumers, subjects of
// the stream) are removed only after they have been unwanted for a while:
// a replica whose view lags must not delete what another has just made.
import { EMPTY_TABLE, subscriptionTable, triggersOf, type SubscriptionTable } from '../../core/events/triggers.js';
import { CRON_STREAM, EVENTS_STREAM } from '../../queue/event-streams.js';
import { CRON_TOPIC, streamSubjectsOf, type SubjectRules } from '../../core/events/subjects.js';
import { CoreSubscriptions } from './core-subscriptions.js';
import { DurableConsumer } from '../../triggers/durable-consumer.js';
import { RunRecorder, type HandlerDeps } from '../../triggers/handler.js';
import { Ticker } from './ticker.js';

/** How often the table is applied again in full. */
const RECONCILE_EVERY_MS = 3_000;
/** How long a consumer or subject must have been unwanted before it is deleted. */
const DELETE_AFTER_MS = 30_000;

export class EventConnector {
  private table: SubscriptionTable = EMPTY_TABLE;
  private readonly core: CoreSubscriptions;
  private readonly consumers = new Map<string, DurableConsumer>();
  private readonly tickers = new Map<string, { ticker: Ticker; expression: string }>();
  private readonly runs: RunRecorder;
  private readonly unwantedSince = new Map<string, number>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private applying: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: HandlerDeps,
    private readonly rules: SubjectRules,
  ) {
    this.runs = new RunRecorder(deps);
    this.core = new CoreSubscriptions(deps, this.runs);
  }

  /** Starts following; the view must have read the functions once. */
  start(): void {
    this.unsubscribe = this.deps.functions.onChange(() => this.reconcile());
    this.timer = setInterval(() => this.reconcile(), RECONCILE_EVERY_MS);
    this.timer.unref();
    this.reconcile();
  }

  /** Subscriptions now, for the metrics. */
  subscriptions(): Array<{ subject: string; delivery: string; functions: number }> {
    const out = [...this.table.core].map(([subject, refs]) => ({ subject, delivery: 'at-most-once', functions: refs.length }));
    const durable = new Map<string, number>();
    for (const d of this.table.durable.values()) durable.set(d.subject, (durable.get(d.subject) ?? 0) + 1);
    for (const [subject, functions] of durable) out.push({ subject, delivery: 'durable', functions });
    if (this.table.scheduled.size > 0) out.push({ subject: CRON_TOPIC, delivery: 'schedule', functions: this.table.scheduled.size });
    return out;
  }

  get inflight(): number {
    let n = 0;
    for (const c of this.consumers.values()) n += c.inflight;
    return n;
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    this.core.close();
    for (const { ticker } of this.tickers.values()) ticker.stop();
    const all = [...this.consumers.values()];
    this.consumers.clear();
    await Promise.race([Promise.all(all.map((c) => c.stop())), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }

  /** Applies the table now, or once more after the pass in progress. */
  reconcile(): void {
    if (this.stopped) return;
    if (this.applying) {
      this.again = true;
      return;
    }
    this.applying = this.apply()
      .catch((error: unknown) => this.deps.log.warn({ err: error }, 'subscriptions not all in place: trying again shortly'))
      .finally(() => {
        this.applying = undefined;
        if (this.again) {
          this.again = false;
          this.reconcile();
        }
      });
  }

  private async apply(): Promise<void> {
    const { functions, log } = this.deps;
    const triggers = functions.list().map(({ status }) => {
      const t = triggersOf(status, status.annotations, this.rules);
      if (t.problems.length > 0) log.debug({ function: status.name, problems: t.problems }, 'annotations not all usable');
      return t;
    });
    const table = subscriptionTable(triggers, { cronPrefix: CRON_STREAM });
    this.table = table;

    // Local parts first: they follow the view at once, whatever NATS does.
    for (const [name, consumer] of this.consumers) {
      if (!table.durable.has(name) && !table.scheduled.has(name)) {
        this.consumers.delete(name);
        void consumer.stop();
        log.info({ consumer: name }, 'unsubscribed');
      } else consumer.refresh();
    }
    for (const [name, { ticker, expression }] of this.tickers) {
      const job = table.scheduled.get(name);
      if (!job || job.schedule.expression !== expression) {
        ticker.stop();
        this.tickers.delete(name);
      }
    }
    for (const [name, job] of table.scheduled) {
      if (!this.tickers.has(name)) {
        const ticker = new Ticker(this.deps, job);
        this.tickers.set(name, { ticker, expression: job.schedule.expression });
        ticker.start();
      }
      if (!this.consumers.has(name)) this.startConsumer(name, { ref: job.ref, consumer: name, filter: job.subject, kind: 'schedule', schedule: job.schedule.expression });
    }
    // Durable subscriptions need the stream to capture their subject before their first message.
    await this.deps.streams.captureSubjects(await this.subjectsToCapture(table));
    for (const [name, sub] of table.durable) {
      if (!this.consumers.has(name)) this.startConsumer(name, { ref: sub.ref, consumer: name, filter: sub.subject, kind: 'topic' });
    }
    await this.core.apply(table.core);
    await this.collect(table);
  }

  private startConsumer(name: string, target: ConstructorParameters<typeof DurableConsumer>[1]): void {
    const consumer = new DurableConsumer(this.deps, target, this.runs);
    this.consumers.set(name, consumer);
    consumer.start();
  }

  /** The subjects wanted now, plus those captured now that have not been unwanted long enough to go. */
  private async subjectsToCapture(table: SubscriptionTable): Promise<string[]> {
    const wanted = new Set(table.streamSubjects);
    const keep = (await this.deps.streams.capturedSubjects()).filter((s) => !wanted.has(s) && !this.unwantedLongEnough(`subject ${s}`));
    for (const s of wanted) this.unwantedSince.delete(`subject ${s}`);
    // No subject of the stream may cover or overlap another (JetStream refuses it): a cover takes their messages.
    return streamSubjectsOf([...wanted, ...keep]);
  }

  /** Deletes the consumers no function wants any more (after DELETE_AFTER_MS unwanted). */
  private async collect(table: SubscriptionTable): Promise<void> {
    const { streams } = this.deps;
    for (const [stream, prefix, wanted] of [
      [EVENTS_STREAM, 'ev_', table.durable],
      [CRON_STREAM, 'cron_', table.scheduled],
    ] as const) {
      for (const info of await streams.consumers(stream)) {
        const name = info.name;
        if (!name.startsWith(prefix)) continue;
        if (wanted.has(name)) {
          this.unwantedSince.delete(`consumer ${name}`);
          continue;
        }
        if (this.unwantedLongEnough(`consumer ${name}`)) {
          await streams.deleteConsumer(stream, name);
          this.unwantedSince.delete(`consumer ${name}`);
          this.deps.log.info({ stream, consumer: name, pending: info.num_pending }, 'deleted the consumer of a subscription that went away');
        }
      }
    }
  }

  private unwantedLongEnough(key: string): boolean {
    const since = this.unwantedSince.get(key);
    if (since === undefined) {
      this.unwantedSince.set(key, Date.now());
      return false;
    }
    return Date.now() - since >= DELETE_AFTER_MS;
  }
}

