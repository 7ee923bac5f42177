// Durable consumers of JetStream streams, as the trigger runner uses them:
// make one (or bring its limits to what the function wants now), pull its
// messages as deliveries, delete it. Every replica of a program pulls from
// the same durable consumer, whose max_ack_pending is the function's limit of
// invocations in flight: JetStream itself holds the limit across replicas.
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { QueueConnection } from './connection.js';
import { isAlreadyThere, isNotFound } from './errors.js';
import { fromNats, type MessageHeaders } from './events.js';

const NANOS_PER_MS = 1_000_000;

export interface ConsumerSpec {
  stream: string;
  /** The durable consumer's name. */
  name: string;
  /** The subject it takes. */
  filter: string;
  /** A new consumer takes only messages from now on (a new subscription), else every message the stream holds. */
  deliverNew: boolean;
  /** Deliveries at once across every puller: the function's limit of invocations in flight. */
  maxAckPending: number;
  /** A delivery not acknowledged (nor said to be worked on) for this long is delivered again. */
  ackWaitSeconds: number;
}

/** One message handed to a puller. */
export interface Delivery {
  subject: string;
  /** Its sequence number in the stream. */
  seq: number;
  data: Uint8Array;
  headers: MessageHeaders;
  /** 1 on the first delivery. */
  deliveryCount: number;
  redelivered: boolean;
  /** When the stream stored it (ms since the epoch). */
  storedAt: number;
  /** Tells JetStream it is still being worked on (so it is not delivered again meanwhile). */
  working(): void;
  /** Delivered again after `delayMs`. */
  retryAfter(delayMs: number): void;
  /** Never delivered again (not something anyone can work). */
  drop(): void;
  /** Done: resolves once JetStream confirmed it (rejects when that could not be confirmed: it may come again). */
  done(): Promise<void>;
}

/** A puller's open feed: deliveries until it is closed, or until the consumer or its stream went away (start over then). */
export interface Feed extends AsyncIterable<Delivery> {
  close(): Promise<void>;
}

export class Consumers {
  constructor(private readonly connection: QueueConnection) {}

  /** Makes the consumer, or brings an existing one's limits to the spec. Announces whether it was made now. */
  async ensure(spec: ConsumerSpec): Promise<'made' | 'there'> {
    const { jsm } = await this.connection.handles(30_000);
    const ackWait = Math.round(spec.ackWaitSeconds * 1000) * NANOS_PER_MS;
    try {
      const info = await jsm.consumers.info(spec.stream, spec.name);
      if (info.config.max_ack_pending !== spec.maxAckPending || info.config.ack_wait !== ackWait) {
        await jsm.consumers.update(spec.stream, spec.name, { max_ack_pending: spec.maxAckPending, ack_wait: ackWait });
      }
      return 'there';
    } catch (error) {
      if (!/consumer not found|not found/i.test(String((error as Error).message))) throw error;
    }
    try {
      await jsm.consumers.add(spec.stream, {
        durable_name: spec.name,
        filter_subject: spec.filter,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: spec.deliverNew ? DeliverPolicy.New : DeliverPolicy.All,
        max_ack_pending: spec.maxAckPending,
        ack_wait: ackWait,
        // Attempts are counted by the runner (dead letters), not by JetStream.
        max_deliver: -1,
      });
      return 'made';
    } catch (error) {
      // Another replica made it meanwhile.
      if (isAlreadyThere(error)) return 'there';
      throw error;
    }
  }

  /** Pulls the consumer's messages, `maxMessages` at most in hand at once. */
  async consume(spec: ConsumerSpec, maxMessages: number): Promise<Feed> {
    const { js } = await this.connection.handles(30_000);
    const consumer = await js.consumers.get(spec.stream, spec.name);
    const messages: ConsumerMessages = await consumer.consume({ max_messages: maxMessages });
    // A NATS that lost its store (or a consumer deleted by hand) leaves the pull waiting for nothing: end the feed.
    void (async () => {
      for await (const status of messages.status()) {
        if (status.type === 'consumer_not_found' || status.type === 'stream_not_found' || status.type === 'consumer_deleted') {
          await messages.close();
          return;
        }
      }
    })().catch(() => undefined);
    return {
      close: async () => {
        await messages.close().catch(() => undefined);
      },
      async *[Symbol.asyncIterator]() {
        for await (const message of messages) yield deliveryOf(message);
      },
    };
  }

  async delete(stream: string, name: string): Promise<void> {
    const { jsm } = await this.connection.handles();
    await jsm.consumers.delete(stream, name).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }
}

function deliveryOf(message: JsMsg): Delivery {
  return {
    subject: message.subject,
    seq: message.seq,
    data: message.data,
    headers: fromNats(message.headers),
    deliveryCount: message.info.deliveryCount,
    redelivered: message.redelivered,
    storedAt: Number(message.info.timestampNanos) / NANOS_PER_MS,
    working: () => message.working(),
    retryAfter: (delayMs) => message.nak(delayMs),
    drop: () => message.term(),
    done: async () => {
      await message.ackAck({ timeout: 5_000 });
    },
  };
}
