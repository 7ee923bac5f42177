// How many messages RabbitMQ holds for each queue: ready (waiting) plus
// unacknowledged (taken by a consumer, being worked on). With the management
// API (RABBITMQ_MANAGEMENT_URL): one request for every queue of the vhost,
// both figures, activity counters and each queue's dead-letter exchange (the
// broker refreshes them every collect_statistics_interval: the stack's own
// broker sets 500 ms). Without it: a passive declare per queue over AMQP,
// which gives ready messages only (as KEDA's amqp mode does).
import type { Channel } from 'amqplib';
import { describeBrokerError, type BrokerAccess, type RabbitConnection } from './connection.js';

export interface QueueDepth {
  ready: number;
  /** null: not known (a passive declare does not say). */
  unacked: number | null;
  consumers: number;
  /** Counters that move whenever messages come, are delivered or acked, added up: a change means activity. */
  activity: number;
  /** The queue's dead-letter exchange (its argument or a policy's); null: none; undefined: not known. */
  deadLetterExchange?: string | null;
  /** Whether the queue outlives a broker restart; undefined: not known. */
  durable?: boolean;
}

/** Each queue asked for: its depth, or null when the broker has no such queue. */
export type Depths = Map<string, QueueDepth | null>;

interface ManagementQueue {
  name: string;
  messages_ready?: number;
  messages_unacknowledged?: number;
  consumers?: number;
  message_stats?: { publish?: number; deliver_get?: number; ack?: number };
  arguments?: Record<string, unknown>;
  effective_policy_definition?: Record<string, unknown> | [];
  durable?: boolean;
}

export class DepthError extends Error {}

export class QueueDepths {
  private channel: Channel | undefined;

  constructor(
    private readonly access: BrokerAccess,
    private readonly connection: RabbitConnection | undefined,
  ) {}

  get source(): 'management' | 'passive' {
    return this.access.managementUrl ? 'management' : 'passive';
  }

  /** The depths of `queues`; rejects with a DepthError saying why when the broker cannot be read now. */
  async read(queues: readonly string[]): Promise<Depths> {
    if (queues.length === 0) return new Map();
    return this.access.managementUrl ? this.fromManagement(queues) : this.fromDeclares(queues);
  }

  private async fromManagement(queues: readonly string[]): Promise<Depths> {
    const { access } = this;
    const columns = 'name,messages_ready,messages_unacknowledged,consumers,message_stats.publish,message_stats.deliver_get,message_stats.ack,arguments,effective_policy_definition,durable';
    const url = `${access.managementUrl}/api/queues/${encodeURIComponent(access.vhost)}?columns=${columns}`;
    let res: Response;
    try {
      res = await fetch(url, { headers: { authorization: `Basic ${Buffer.from(`${access.username}:${access.password}`).toString('base64')}` }, signal: AbortSignal.timeout(3_000) });
    } catch (error) {
      throw new DepthError(`RabbitMQ's management API at ${access.managementUrl} did not answer: ${String((error as Error).cause ?? (error as Error).message)}`);
    }
    if (res.status === 401) throw new DepthError(`RabbitMQ's management API refused the credentials of user ${access.username}`);
    if (res.status === 404) throw new DepthError(`RabbitMQ has no virtual host ${access.vhost} (management API: 404)`);
    if (res.status !== 200) throw new DepthError(`RabbitMQ's management API answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const all = (await res.json()) as ManagementQueue[];
    const byName = new Map(all.map((q) => [q.name, q]));
    const out: Depths = new Map();
    for (const name of queues) {
      const q = byName.get(name);
      if (!q) {
        out.set(name, null);
        continue;
      }
      const policy = Array.isArray(q.effective_policy_definition) ? {} : (q.effective_policy_definition ?? {});
      const dlx = q.arguments?.['x-dead-letter-exchange'] ?? policy['dead-letter-exchange'];
      const stats = q.message_stats ?? {};
      out.set(name, {
        ready: q.messages_ready ?? 0,
        unacked: q.messages_unacknowledged ?? 0,
        consumers: q.consumers ?? 0,
        activity: (stats.publish ?? 0) + (stats.deliver_get ?? 0) + (stats.ack ?? 0),
        deadLetterExchange: typeof dlx === 'string' ? dlx : null,
        ...(typeof q.durable === 'boolean' ? { durable: q.durable } : {}),
      });
    }
    return out;
  }

  private async fromDeclares(queues: readonly string[]): Promise<Depths> {
    if (!this.connection?.connected) throw new DepthError(`not connected to RabbitMQ: ${this.connection?.problem ?? 'no connection'}`);
    const out: Depths = new Map();
    for (const name of queues) {
      try {
        this.channel ??= await this.openChannel();
        const ok = await this.channel.checkQueue(name);
        // No delivered counter over AMQP: the ready count is the only sign of activity.
        out.set(name, { ready: ok.messageCount, unacked: null, consumers: ok.consumerCount, activity: 0 });
      } catch (error) {
        // A passive declare of a missing queue closes the channel (404): the next queue gets a new one.
        this.channel = undefined;
        if (/NOT_FOUND|404/.test(String((error as Error).message))) out.set(name, null);
        else throw new DepthError(describeBrokerError(error, this.access));
      }
    }
    return out;
  }

  private async openChannel(): Promise<Channel> {
    const channel = await this.connection!.channel();
    channel.on('error', () => undefined);
    channel.on('close', () => {
      if (this.channel === channel) this.channel = undefined;
    });
    return channel;
  }
}
