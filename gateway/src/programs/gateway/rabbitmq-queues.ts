// What the gateway knows of the RabbitMQ queues functions subscribe to
// (annotation rabbitmq-topic): their depth, ready plus unacknowledged, read
// from the broker at each look of the queue scaler (QUEUE_SCALE_INTERVAL),
// added to each function's backlog so that com.openfaas.scale.type=queue
// follows RabbitMQ-fed functions like NATS-fed ones; and, for the function
// page and GET /system/function/{name}/events, what is wrong: a queue that
// does not exist, a broker that refuses the credentials or is away, a queue
// without a dead-letter exchange. Every gateway reads the same figures from
// the broker, so two gateways want the same replicas.
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import { rabbitTable, rabbitTriggersOf, sharedQueueNotes, type RabbitTriggers } from '../../core/events/rabbitmq.js';
import type { FunctionLookup } from '../../core/functions/view.js';
import { keyOf, type FunctionRef } from '../../core/functions/types.js';
import type { Backlog } from '../../queue/backlog.js';
import { RabbitConnection, type BrokerAccess } from '../../rabbitmq/connection.js';
import { QueueDepths, type Depths } from '../../rabbitmq/depths.js';

/** One queue as a function page shows it. */
export interface QueueView {
  name: string;
  /** null: not known (not read yet, the broker away, or a passive declare for unacked). */
  ready: number | null;
  unacked: number | null;
  consumers: number | null;
  deadLetterExchange?: string | null;
  problem?: string;
}

/** What GET /system/function/{name}/events says of a function's RabbitMQ side. */
export interface FunctionRabbit {
  broker: string;
  /** Where the depths come from: the management API (ready and unacked) or passive declares (ready only). */
  depthSource: 'management' | 'passive';
  queues: QueueView[];
  output: string | null;
  problems: string[];
  /** Messages held now over its queues (ready + unacked); null: not known. */
  pending: number | null;
}

export class RabbitQueues {
  private readonly depths: QueueDepths;
  private readonly connection: RabbitConnection | undefined;
  private last: Depths = new Map();
  private problem: string | undefined = 'not read yet';
  private warned = false;

  constructor(
    private readonly access: BrokerAccess,
    private readonly functions: FunctionLookup,
    private readonly log: Logger,
    private readonly nameOf: (ref: FunctionRef) => string,
    registry?: Registry,
  ) {
    // Without the management API, depths are read by passive declares over a connection of the gateway's own.
    this.connection = access.managementUrl ? undefined : new RabbitConnection(access, log.child({ component: 'rabbitmq' }), `swarmfaas-gateway-${process.pid}`);
    this.depths = new QueueDepths(access, this.connection);
    if (registry) {
      const latest = () => this.last;
      new Gauge({
        name: 'gateway_rabbitmq_queue_messages',
        help: 'Messages of each RabbitMQ queue functions subscribe to, by state: ready (waiting) and unacked (taken by a connector, being worked on), as the gateway last read them; every gateway reports the same: aggregate with max',
        labelNames: ['queue', 'state'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [queue, depth] of latest()) {
            if (!depth) continue;
            this.set({ queue, state: 'ready' }, depth.ready);
            if (depth.unacked !== null) this.set({ queue, state: 'unacked' }, depth.unacked);
          }
        },
      });
      new Gauge({
        name: 'gateway_rabbitmq_queue_consumers',
        help: 'Consumers of each RabbitMQ queue functions subscribe to (the connectors), as the gateway last read them',
        labelNames: ['queue'],
        registers: [registry],
        collect() {
          this.reset();
          for (const [queue, depth] of latest()) if (depth) this.set({ queue }, depth.consumers);
        },
      });
    }
  }

  start(): void {
    this.connection?.start();
  }

  async stop(): Promise<void> {
    await this.connection?.close();
  }

  private triggers(): RabbitTriggers[] {
    return this.functions.list().map(({ status }) => rabbitTriggersOf(status, status.annotations));
  }

  /** Reads every subscribed queue; each function's backlog: its queues' ready + unacked (unknown while the broker cannot be read). */
  async backlog(): Promise<Map<string, Backlog>> {
    const all = this.triggers().filter((t) => t.queues.length > 0);
    const out = new Map<string, Backlog>();
    if (all.length === 0) return out;
    const queues = [...new Set(all.flatMap((t) => t.queues))];
    try {
      this.last = await this.depths.read(queues);
      this.problem = undefined;
      this.warned = false;
    } catch (error) {
      this.problem = (error as Error).message;
      this.last = new Map();
      if (!this.warned) this.log.warn({ reason: this.problem }, 'RabbitMQ queue depths not known now: functions scaled on them keep their replicas');
      this.warned = true;
      for (const t of all) out.set(keyOf(t.ref), { pending: 0, delivered: 0, unknown: true });
      return out;
    }
    for (const t of all) {
      let pending = 0;
      let delivered = 0;
      for (const queue of t.queues) {
        const depth = this.last.get(queue);
        if (!depth) continue;
        pending += depth.ready + (depth.unacked ?? 0);
        delivered += depth.activity;
      }
      out.set(keyOf(t.ref), { pending, delivered });
    }
    return out;
  }

  /** The function's queues as last read, its output binding and what is wrong; undefined: it names no queue. */
  describe(ref: FunctionRef): FunctionRabbit | undefined {
    const entry = this.functions.get(ref);
    if (!entry) return undefined;
    const triggers = rabbitTriggersOf(entry.status, entry.status.annotations);
    if (triggers.queues.length === 0 && triggers.problems.length === 0) return undefined;
    const problems = [...triggers.problems, ...sharedQueueNotes(triggers, rabbitTable(this.triggers()), this.nameOf)];
    let pending: number | null = this.problem ? null : 0;
    const queues: QueueView[] = triggers.queues.map((name) => {
      if (this.problem) return { name, ready: null, unacked: null, consumers: null, problem: this.problem };
      const depth = this.last.get(name);
      if (depth === undefined) {
        pending = null;
        return { name, ready: null, unacked: null, consumers: null, problem: 'not read yet' };
      }
      if (depth === null) return { name, ready: null, unacked: null, consumers: null, problem: `queue ${name} does not exist on the broker (vhost ${this.access.vhost}): declare it (durable)` };
      if (pending !== null) pending += depth.ready + (depth.unacked ?? 0);
      const view: QueueView = { name, ready: depth.ready, unacked: depth.unacked, consumers: depth.consumers };
      if (depth.deadLetterExchange !== undefined) view.deadLetterExchange = depth.deadLetterExchange;
      if (depth.durable === false) view.problem = `queue ${name} is not durable: it and its messages are lost when the broker restarts (declare it durable)`;
      else if (depth.deadLetterExchange === null) view.problem = `queue ${name} has no dead-letter exchange: messages that fail for good are dropped by RabbitMQ (set x-dead-letter-exchange or a policy)`;
      else if (depth.consumers === 0) view.problem = 'no connector consumes it now';
      return view;
    });
    for (const q of queues) if (q.problem && q.problem !== 'not read yet' && !problems.includes(q.problem)) problems.push(q.problem);
    return { broker: this.access.url, depthSource: this.depths.source, queues, output: triggers.output?.text ?? null, problems, pending };
  }
}
