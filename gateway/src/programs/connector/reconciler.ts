// The event connector: follows the functions (the catalog the gateways keep
// in NATS, which follows Swarm within WATCH_INTERVAL), computes from their annotations the table of
// subscriptions (events/triggers.ts), and brings NATS to it: core
// subscriptions for at-most-once topics, durable consumers for durable
// topics, tickers and consumers for schedules, and the subjects faas-events
// captures. A deploy, an update or a delete is followed as soon as the view
// has it; every few seconds the whole table is applied again (NATS may have
// restarted, another replica may have undone a change of the stream).
//
// JetStream objects of subscriptions that went away (consumers, subjects of
// the stream) are removed only after they have been unwanted for a while,
// and only by a connector that has read the functions: a replica whose view
// lags, or has not been read yet, must not delete what another has just made
// (an interest stream drops the messages of a deleted consumer).
import { EMPTY_TABLE, subscriptionTable, triggersOf, type SubscriptionTable } from '../../core/events/triggers.js';
import { CRON_STREAM, EVENTS_STREAM } from '../../queue/events.js';
import { CRON_TOPIC, streamSubjectsOf, type SubjectRules } from '../../core/events/subjects.js';
import { RunnerSet } from '../../triggers/runner.js';
import { CoreSubscriptions } from './core-subscriptions.js';
import { inflightLimit, RunRecorder, type ConnectorDeps } from './deps.js';
import { EventTrigger, type EventTarget } from './event-trigger.js';
import { Ticker } from './ticker.js';
import type { FunctionRef } from '../../core/functions/types.js';

/** How often the table is applied again in full. */
const RECONCILE_EVERY_MS = 3_000;
/** How long a consumer or subject must have been unwanted before it is deleted. */
const DELETE_AFTER_MS = 30_000;

export class EventConnector {
  private table: SubscriptionTable = EMPTY_TABLE;
  private readonly core: CoreSubscriptions;
  private readonly consumers: RunnerSet;
  private readonly tickers = new Map<string, { ticker: Ticker; expression: string }>();
  private readonly runs: RunRecorder;
  private readonly unwantedSince = new Map<string, number>();
  /** The function each consumer runs for. */
  private readonly refs = new Map<string, FunctionRef>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private applying: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(
    private readonly deps: ConnectorDeps,
    private readonly rules: SubjectRules,
    private readonly timing = { reconcileEveryMs: RECONCILE_EVERY_MS, deleteAfterMs: DELETE_AFTER_MS },
  ) {
    this.runs = new RunRecorder(deps);
    this.core = new CoreSubscriptions(deps, this.runs);
    this.consumers = new RunnerSet(deps.runner);
  }

  /** Starts following; the view must have read the functions once. */
  start(): void {
    this.unsubscribe = this.deps.functions.onChange(() => this.reconcile());
    this.timer = setInterval(() => this.reconcile(), this.timing.reconcileEveryMs);
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

  /** Invocations in flight (and, at-most-once, waiting) per function name: the events_inflight gauge. */
  inflight(): Array<{ name: string; count: number }> {
    const byName = new Map<string, number>();
    for (const [consumer, runner] of this.consumers.entries()) {
      const ref = this.refs.get(consumer);
      if (ref) byName.set(this.deps.nameOf(ref), (byName.get(this.deps.nameOf(ref)) ?? 0) + runner.inflight);
    }
    for (const entry of this.deps.functions.list()) {
      const busy = this.core.busy().get(`${entry.status.name}.${entry.status.namespace}`);
      if (busy) byName.set(this.deps.nameOf(entry.status), (byName.get(this.deps.nameOf(entry.status)) ?? 0) + busy);
    }
    return [...byName].map(([name, count]) => ({ name, count }));
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    this.core.close();
    for (const { ticker } of this.tickers.values()) ticker.stop();
    await this.consumers.stop(graceMs);
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
    for (const name of this.consumers.names()) {
      if (!table.durable.has(name) && !table.scheduled.has(name)) {
        void this.consumers.remove(name);
        this.refs.delete(name);
        log.info({ consumer: name }, 'unsubscribed');
      }
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
      this.follow({ ref: job.ref, consumer: name, kind: 'schedule', schedule: job.schedule.expression }, CRON_STREAM, job.subject);
    }
    // At-most-once subscriptions (a removed one goes at once), then durable ones: their stream must capture the subject before their first message.
    await this.core.apply(table.core);
    await this.deps.events.captureSubjects(await this.subjectsToCapture(table));
    for (const [name, sub] of table.durable) this.follow({ ref: sub.ref, consumer: name, kind: 'topic' }, EVENTS_STREAM, sub.subject);
    // Only a connector that has read the functions may judge what nobody wants: one that has not (NATS was away
    // when it started) sees no function at all, and deleting their consumers would drop their pending messages.
    if (this.deps.functions.ready) await this.collect(table);
  }

  /** Runs the durable consumer of a subscription or a schedule (or re-checks its limit when it runs). */
  private follow(target: EventTarget, stream: string, filter: string): void {
    this.refs.set(target.consumer, target.ref);
    this.consumers.ensure(target.consumer, () => ({
      adapter: new EventTrigger(this.deps, target, this.runs),
      // A new subscription takes the messages from now on; the ticks of a schedule are all its own.
      spec: () => ({ stream, name: target.consumer, filter, deliverNew: target.kind === 'topic', maxAckPending: inflightLimit(this.deps, target.ref), ackWaitSeconds: this.deps.settings.ASYNC_ACK_WAIT }),
      prepare: () => this.deps.events.ensure(),
      started: (made) => {
        if (made) this.deps.log.info({ function: this.deps.nameOf(target.ref), consumer: target.consumer, filter }, `subscribed (${target.kind === 'topic' ? 'durable' : 'schedule'})`);
      },
    }));
  }

  /** The subjects wanted now, plus those captured now that have not been unwanted long enough to go. */
  private async subjectsToCapture(table: SubscriptionTable): Promise<string[]> {
    const wanted = new Set(table.streamSubjects);
    const keep = (await this.deps.events.capturedSubjects()).filter((s) => !wanted.has(s) && !this.unwantedLongEnough(`subject ${s}`));
    for (const s of wanted) this.unwantedSince.delete(`subject ${s}`);
    // No subject of the stream may cover or overlap another (JetStream refuses it): a cover takes their messages.
    return streamSubjectsOf([...wanted, ...keep]);
  }

  /** Deletes the consumers no function wants any more (after DELETE_AFTER_MS unwanted). */
  private async collect(table: SubscriptionTable): Promise<void> {
    const { events } = this.deps;
    for (const [stream, prefix, wanted] of [
      [EVENTS_STREAM, 'ev_', table.durable],
      [CRON_STREAM, 'cron_', table.scheduled],
    ] as const) {
      for (const info of await events.consumers(stream)) {
        const name = info.name;
        if (!name.startsWith(prefix)) continue;
        if (wanted.has(name)) {
          this.unwantedSince.delete(`consumer ${name}`);
          continue;
        }
        if (this.unwantedLongEnough(`consumer ${name}`)) {
          await events.deleteConsumer(stream, name);
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
    return Date.now() - since >= this.timing.deleteAfterMs;
  }
}

