// The one durable-consumer runner: the queue worker runs one per function
// (its asynchronous calls), the connector one per durable subscription and
// per schedule. Each pulls its consumer (made, or brought to the function's
// limit of invocations in flight, first), hands every message to the
// delivery step with its trigger's adapter, and starts over after a lost
// connection, a stream made anew, or a change of the limit. A RunnerSet
// keeps a program's runners equal to the set it wants now.
import type { Logger } from 'pino';
import type { ConsumerSpec, Consumers, Delivery, Feed } from '../queue/consumers.js';
import { deliver, type DeliveryDeps, type TriggerAdapter } from './delivery.js';

export interface RunnerTarget {
  /** The consumer as wanted now (read at each start: the limit may have changed). */
  spec(): ConsumerSpec;
  adapter: TriggerAdapter;
  /** Made before each start (e.g. the stream the consumer reads). */
  prepare?(): Promise<void>;
  /** Told once the consumer exists and messages are being pulled ('made': it was made now). */
  started?(made: boolean): void;
}

export interface RunnerDeps extends DeliveryDeps {
  consumers: Consumers;
  /** After an error that says a stream is gone: make it again before the next start. */
  forgetStreams(error: unknown): void;
}

export class ConsumerRunner {
  private stopped = false;
  private feed: Feed | undefined;
  private loop: Promise<void> | undefined;
  private readonly running = new Set<Promise<void>>();
  private limit = 0;

  constructor(
    private readonly deps: RunnerDeps,
    readonly target: RunnerTarget,
  ) {}

  /** Deliveries being worked on now. */
  get inflight(): number {
    return this.running.size;
  }

  start(): void {
    this.loop ??= this.pull();
  }

  /** Stops pulling; resolves once the deliveries in hand are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.feed?.close();
    await this.loop;
    await Promise.all([...this.running]);
  }

  /** Starts over when the consumer's limit changed (the pull size follows it). */
  refresh(): void {
    if (!this.stopped && this.target.spec().maxAckPending !== this.limit) void this.feed?.close();
  }

  private async pull(): Promise<void> {
    const { log } = this.deps;
    let failures = 0;
    while (!this.stopped) {
      const spec = this.target.spec();
      try {
        await this.target.prepare?.();
        this.limit = spec.maxAckPending;
        const made = await this.deps.consumers.ensure(spec);
        if (this.stopped) break;
        this.feed = await this.deps.consumers.consume(spec, spec.maxAckPending);
        this.target.started?.(made === 'made');
        failures = 0;
        for await (const delivery of this.feed) {
          if (this.stopped) {
            delivery.retryAfter(0);
            continue;
          }
          this.handle(delivery);
        }
      } catch (error) {
        if (this.stopped) break;
        this.deps.forgetStreams(error);
        failures++;
        // A lost server, or a stream made anew: follow again shortly.
        if (failures === 1 || failures % 30 === 0) log.warn({ err: error, consumer: spec.name, stream: spec.stream }, 'cannot take messages from the queue: trying again');
      }
      if (!this.stopped) await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  private handle(delivery: Delivery): void {
    const work: Promise<void> = deliver(this.deps, this.target.adapter, delivery)
      .catch((error: unknown) => this.deps.log.error({ err: error, subject: delivery.subject }, 'delivery failed'))
      .finally(() => this.running.delete(work));
    this.running.add(work);
  }
}

/** A program's runners, kept equal to the targets it wants (by name). */
export class RunnerSet {
  private readonly runners = new Map<string, ConsumerRunner>();

  constructor(private readonly deps: RunnerDeps) {}

  get size(): number {
    return this.runners.size;
  }

  get inflight(): number {
    let n = 0;
    for (const runner of this.runners.values()) n += runner.inflight;
    return n;
  }

  has(name: string): boolean {
    return this.runners.has(name);
  }

  /** Starts a runner for the target unless one runs under the name (then it re-checks its limit). */
  ensure(name: string, target: () => RunnerTarget): void {
    const current = this.runners.get(name);
    if (current) {
      current.refresh();
      return;
    }
    const runner = new ConsumerRunner(this.deps, target());
    this.runners.set(name, runner);
    runner.start();
  }

  /** Stops the runner of that name; resolves once its deliveries in hand are done. */
  async remove(name: string): Promise<void> {
    const runner = this.runners.get(name);
    if (!runner) return;
    this.runners.delete(name);
    await runner.stop();
  }

  names(): string[] {
    return [...this.runners.keys()];
  }

  entries(): Array<[string, ConsumerRunner]> {
    return [...this.runners.entries()];
  }

  /** Stops every runner; resolves once their deliveries in hand are done (or after graceMs: those are delivered again). */
  async stop(graceMs: number): Promise<void> {
    const all = [...this.runners.values()];
    this.runners.clear();
    await Promise.race([Promise.all(all.map((r) => r.stop())), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }
}
