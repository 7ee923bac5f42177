// RabbitMQ subscriptions: keeps one consumer per function and queue named in
// the functions' annotations `rabbitmq-topic` (core/events/rabbitmq.ts),
// each on a channel of its own with a prefetch of the function's
// max-inflight (per connector replica), and feeds every message to the one
// delivery step (triggers/delivery.ts) with the RabbitMQ adapter. Follows the
// functions (the catalog the gateways keep in NATS) at once on a change and
// every few seconds in full; a queue that does not exist (yet) or a broker
// that refuses is looked at again, and never stops the other subscriptions.
import type { Registry } from 'prom-client';
import { rabbitTable, rabbitTriggersOf, type QueueSubscription } from '../../core/events/rabbitmq.js';
import { RabbitConnection, type BrokerAccess } from '../../rabbitmq/connection.js';
import { QueueConsumer, type RabbitMessage } from '../../rabbitmq/consumer.js';
import { Publisher } from '../../rabbitmq/publisher.js';
import { deliver } from '../../triggers/delivery.js';
import { retryDelayMs } from '../../triggers/retry.js';
import { inflightLimit, RunRecorder, type ConnectorDeps } from './deps.js';
import { deliveryOf, RabbitMetrics, RabbitTrigger } from './rabbitmq-trigger.js';

const RECONCILE_EVERY_MS = 3_000;

interface Subscribed {
  subscription: QueueSubscription;
  consumer: QueueConsumer;
  trigger: RabbitTrigger;
  /** Deliveries being worked on. */
  inflight: Set<Promise<void>>;
  /** Messages held for a retry. */
  timers: Set<NodeJS.Timeout>;
  /** Output binding as it was when subscribed (a change makes the subscription anew). */
  output: string;
}

export class RabbitSubscriptions {
  readonly connection: RabbitConnection;
  private readonly publisher: Publisher;
  private readonly runs: RunRecorder;
  private readonly metrics: RabbitMetrics;
  private readonly subscribed = new Map<string, Subscribed>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly deps: ConnectorDeps,
    access: BrokerAccess,
    registry: Registry,
  ) {
    this.connection = new RabbitConnection(access, deps.log.child({ component: 'rabbitmq' }), `swarmfaas-connector-${process.pid}`);
    this.publisher = new Publisher(this.connection);
    this.runs = new RunRecorder(deps);
    this.metrics = new RabbitMetrics(registry);
  }

  start(): void {
    this.connection.start();
    this.unsubscribe = this.deps.functions.onChange(() => this.reconcile());
    this.timer = setInterval(() => this.reconcile(), RECONCILE_EVERY_MS);
    this.timer.unref();
    this.reconcile();
  }

  /** Subscriptions now, for events_subscriptions{delivery="rabbitmq"}. */
  subscriptions(): Array<{ subject: string; delivery: string; functions: number }> {
    const byQueue = new Map<string, number>();
    for (const { subscription } of this.subscribed.values()) byQueue.set(subscription.queue, (byQueue.get(subscription.queue) ?? 0) + 1);
    return [...byQueue].map(([subject, functions]) => ({ subject, delivery: 'rabbitmq', functions }));
  }

  /** Invocations in flight per function name. */
  inflight(): Array<{ name: string; count: number }> {
    const byName = new Map<string, number>();
    for (const { subscription, inflight } of this.subscribed.values()) {
      const name = this.deps.nameOf(subscription.ref);
      byName.set(name, (byName.get(name) ?? 0) + inflight.size);
    }
    return [...byName].map(([name, count]) => ({ name, count }));
  }

  /** Each subscription's consumer state (the logs and tests). */
  states(): Array<{ key: string; queue: string; state: string; problem?: string }> {
    return [...this.subscribed].map(([key, s]) => ({ key, queue: s.subscription.queue, ...s.consumer.status }));
  }

  reconcile(): void {
    if (this.stopped) return;
    const wanted = rabbitTable(this.deps.functions.list().map(({ status }) => rabbitTriggersOf(status, status.annotations))).subscriptions;
    for (const [key, current] of this.subscribed) {
      const want = wanted.get(key);
      if (!want || (want.output?.text ?? '') !== current.output) {
        this.subscribed.delete(key);
        void this.finish(current, 5_000);
        this.deps.log.info({ function: this.deps.nameOf(current.subscription.ref), queue: current.subscription.queue }, 'unsubscribed from a RabbitMQ queue');
      }
    }
    for (const [key, subscription] of wanted) {
      const current = this.subscribed.get(key);
      const prefetch = inflightLimit(this.deps, subscription.ref);
      if (current) {
        current.consumer.setPrefetch(prefetch);
        continue;
      }
      this.subscribed.set(key, this.subscribe(key, subscription, prefetch));
    }
  }

  private subscribe(key: string, subscription: QueueSubscription, prefetch: number): Subscribed {
    const trigger = new RabbitTrigger(this.deps, subscription, this.runs, this.publisher, this.metrics);
    const entry: Subscribed = { subscription, trigger, inflight: new Set(), timers: new Set(), output: subscription.output?.text ?? '', consumer: undefined as unknown as QueueConsumer };
    const tag = `faas-${subscription.ref.namespace}-${subscription.ref.name}`.slice(0, 120);
    entry.consumer = new QueueConsumer(this.connection, this.publisher, subscription.queue, prefetch, (message) => this.received(entry, message), this.deps.log.child({ function: this.deps.nameOf(subscription.ref) }), tag);
    entry.consumer.start();
    this.deps.log.info({ function: this.deps.nameOf(subscription.ref), queue: subscription.queue, output: entry.output || undefined, key }, 'subscribing to a RabbitMQ queue');
    return entry;
  }

  private received(entry: Subscribed, message: RabbitMessage): void {
    const { log } = this.deps;
    const delivery = deliveryOf(message, entry.timers, (error) => log.warn({ err: error, queue: message.queue }, 'a retry could not be queued: the message goes back to the queue'));
    const work: Promise<void> = deliver(this.deps.runner, entry.trigger, delivery)
      .catch((error: unknown) => {
        // The answer could not be published (or the step failed): not acknowledged; the message comes again after a while.
        log.warn({ err: error, queue: message.queue, function: this.deps.nameOf(entry.subscription.ref) }, 'RabbitMQ message not acknowledged: it is delivered again');
        delivery.retryAfter(retryDelayMs(delivery.deliveryCount, entry.trigger.retryPolicy(entry.subscription.ref)));
      })
      .finally(() => entry.inflight.delete(work));
    entry.inflight.add(work);
  }

  /** Stops a consumer: no new messages, those in hand finished (within graceMs), those held for a retry back to the queue. */
  private async finish(entry: Subscribed, graceMs: number): Promise<void> {
    await entry.consumer.cancel();
    await Promise.race([Promise.all([...entry.inflight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const timer of entry.timers) clearTimeout(timer);
    entry.timers.clear();
    // Messages held for a retry (and any still in hand) go back to the queue with the channel.
    await entry.consumer.close();
  }

  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    clearInterval(this.timer);
    const all = [...this.subscribed.values()];
    this.subscribed.clear();
    await Promise.all(all.map((entry) => this.finish(entry, graceMs)));
    await this.publisher.close();
    await this.connection.close();
  }
}
