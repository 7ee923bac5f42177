// One consumer of one queue on a channel of its own, with at most `prefetch`
// messages unacknowledged in its hands (RabbitMQ's basic.qos: the bound on
// invocations in flight). It checks the queue exists first (a passive
// declare: the connector never creates a user's queue, so a misspelt name is
// said, not quietly made), and starts over after the channel or the
// connection was lost, or the queue deleted. Messages are handed on with
// their acknowledgement in the receiver's hands: ack (done), reject (to the
// queue's dead-letter exchange), or a copy published again behind the queue
// with its attempt counted (a retry), then the original acked.
import type { Channel, ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import { describeBrokerError, type RabbitConnection } from './connection.js';
import type { Publisher } from './publisher.js';

/** The header carrying the attempt number of a message published again for a retry. */
const ATTEMPT_HEADER = 'x-faas-attempt';

export interface RabbitMessage {
  queue: string;
  content: Buffer;
  /** The message's headers and properties, as text. */
  headers: Record<string, string[]>;
  routingKey: string;
  exchange: string;
  messageId: string | undefined;
  /** When the publisher said it published it (the timestamp property, or an X-Published-At header), ms. */
  publishedAt: number | undefined;
  /** 1 for a first delivery; the retries' copies count on; a redelivery after a lost consumer counts one more. */
  attempt: number;
  redelivered: boolean;
  ack(): void;
  /** Rejected without requeue: RabbitMQ moves it to the queue's dead-letter exchange (if it has none, it is dropped). */
  reject(): void;
  /** Published again to the queue with the attempt counted (confirmed), then acked; rejects when the copy was not taken (the original then stays unacked until the channel goes: it comes again). */
  retry(): Promise<void>;
  /** Back to the queue as it is (a consumer stopping). */
  release(): void;
}

export interface ConsumerStatus {
  /** consuming: messages flow; waiting: no connection; failed: the queue (or the broker) refused (`problem` says why). */
  state: 'consuming' | 'waiting' | 'failed';
  problem?: string;
}

function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function headersOf(message: ConsumeMessage): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    // RabbitMQ's own record of earlier dead-lettering (a structure), and the stack's retry bookkeeping.
    if (name === 'x-death' || name === ATTEMPT_HEADER || name.startsWith('x-faas-first-')) continue;
    const values = (Array.isArray(value) ? value : [value]).map(text).filter((v): v is string => v !== undefined);
    if (values.length > 0) out[name] = values;
  }
  const p = message.properties;
  const props: Array<[string, unknown]> = [
    ['content-type', p.contentType],
    ['content-encoding', p.contentEncoding],
    ['x-rabbitmq-msg-id', p.messageId],
    ['x-rabbitmq-correlation-id', p.correlationId],
    ['x-rabbitmq-reply-to', p.replyTo],
    ['x-rabbitmq-type', p.type],
    ['x-rabbitmq-app-id', p.appId],
    ['x-rabbitmq-user-id', p.userId],
    ['x-rabbitmq-timestamp', typeof p.timestamp === 'number' ? new Date(p.timestamp * 1000).toISOString() : p.timestamp],
    // A retry's copy came through the default exchange: the first delivery's routing key and exchange are the message's.
    ['x-rabbitmq-routing-key', text(p.headers?.['x-faas-first-routing-key']) ?? message.fields.routingKey],
    ['x-rabbitmq-exchange', text(p.headers?.['x-faas-first-exchange']) ?? message.fields.exchange],
  ];
  for (const [name, value] of props) {
    const v = text(value);
    if (v !== undefined && v !== '') out[name] = [v];
  }
  return out;
}

export class QueueConsumer {
  private channel: Channel | undefined;
  private consumerTag: string | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private unlisten: (() => void) | undefined;
  private starting = false;
  status: ConsumerStatus = { state: 'waiting', problem: 'not connected to RabbitMQ yet' };

  constructor(
    private readonly connection: RabbitConnection,
    private readonly publisher: Publisher,
    readonly queue: string,
    private prefetch: number,
    private readonly onMessage: (message: RabbitMessage) => void,
    private readonly log: Logger,
    private readonly tag: string,
  ) {}

  start(): void {
    this.unlisten = this.connection.onConnected(() => void this.open());
  }

  /** The prefetch follows the function's limit (basic.qos applies to the deliveries after it). */
  setPrefetch(prefetch: number): void {
    if (prefetch === this.prefetch) return;
    this.prefetch = prefetch;
    void this.channel?.prefetch(prefetch).catch(() => undefined);
  }

  /** Stops taking messages; those in hand can still be acknowledged until close(). */
  async cancel(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    clearTimeout(this.timer);
    if (this.channel && this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => undefined);
  }

  /** Closes the channel: RabbitMQ puts back every message still unacknowledged on it (redelivered). */
  async close(): Promise<void> {
    await this.cancel();
    const channel = this.channel;
    this.channel = undefined;
    await channel?.close().catch(() => undefined);
  }

  private later(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.open();
    }, 5_000);
    this.timer.unref();
  }

  private async open(): Promise<void> {
    if (this.stopped || this.starting || this.channel) return;
    this.starting = true;
    let channel: Channel | undefined;
    try {
      channel = await this.connection.channel();
      const current = channel;
      channel.on('error', () => undefined);
      channel.on('close', () => {
        if (this.channel !== current) return;
        this.channel = undefined;
        this.consumerTag = undefined;
        if (this.stopped) return;
        if (this.connection.connected) {
          // The queue was deleted, or the broker closed the channel: look again shortly.
          this.status = { state: 'failed', problem: `the broker closed the consumer of queue ${this.queue}` };
          this.later();
        } else this.status = { state: 'waiting', problem: this.connection.problem ?? 'the connection to RabbitMQ was lost' };
      });
      try {
        await channel.checkQueue(this.queue);
      } catch (error) {
        const message = String((error as Error).message);
        const problem = /NOT_FOUND|404/.test(message) ? `queue ${this.queue} does not exist on the broker (vhost ${this.connection.access.vhost}): declare it (durable), e.g. from the producer` : describeBrokerError(error, this.connection.access);
        if (this.status.problem !== problem) this.log.warn({ queue: this.queue, reason: problem }, 'cannot consume the queue: looking again every 5 s');
        this.status = { state: 'failed', problem };
        this.later();
        return;
      }
      await channel.prefetch(this.prefetch);
      this.channel = channel;
      const reply = await channel.consume(this.queue, (message) => {
        if (message === null) {
          // The broker cancelled the consumer (the queue was deleted).
          this.status = { state: 'failed', problem: `queue ${this.queue} was deleted` };
          void current.close().catch(() => undefined);
          return;
        }
        this.onMessage(this.wrap(current, message));
      }, { noAck: false, consumerTag: `${this.tag}-${process.pid}-${Date.now().toString(36)}` });
      this.consumerTag = reply.consumerTag;
      this.status = { state: 'consuming' };
      this.log.info({ queue: this.queue, prefetch: this.prefetch }, 'consuming a RabbitMQ queue');
    } catch (error) {
      this.status = { state: this.connection.connected ? 'failed' : 'waiting', problem: describeBrokerError(error, this.connection.access) };
      if (channel && this.channel !== channel) void channel.close().catch(() => undefined);
      this.later();
    } finally {
      this.starting = false;
    }
  }

  private wrap(channel: Channel, message: ConsumeMessage): RabbitMessage {
    const headers = headersOf(message);
    const given = Number(text(message.properties.headers?.[ATTEMPT_HEADER]));
    const attempt = (Number.isInteger(given) && given >= 1 ? given : 1) + (message.fields.redelivered ? 1 : 0);
    const stamp = message.properties.timestamp;
    const publishedHeader = Number(headers['x-published-at']?.[0]);
    const publishedAt = typeof stamp === 'number' && stamp > 0 ? stamp * 1000 : Number.isFinite(publishedHeader) && publishedHeader > 0 ? publishedHeader : undefined;
    let settled = false;
    // A message is settled once; on a channel that has gone, RabbitMQ has put it back already (it comes again).
    const once = (what: () => void, quiet = true) => {
      if (settled) return;
      settled = true;
      try {
        what();
      } catch (error) {
        if (!quiet) throw error;
      }
    };
    return {
      queue: this.queue,
      content: message.content,
      headers,
      routingKey: message.fields.routingKey,
      exchange: message.fields.exchange,
      messageId: text(message.properties.messageId),
      publishedAt,
      attempt,
      redelivered: message.fields.redelivered,
      ack: () => once(() => channel.ack(message), false),
      reject: () => once(() => channel.reject(message, false)),
      release: () => once(() => channel.nack(message, false, true)),
      retry: async () => {
        if (settled) return;
        const { properties } = message;
        // The copy goes straight to this queue (the default exchange), not through the original exchange: no other queue gets it again.
        await this.publisher.publish('', this.queue, message.content, {
          ...(properties.contentType ? { contentType: properties.contentType } : {}),
          ...(properties.contentEncoding ? { contentEncoding: properties.contentEncoding } : {}),
          ...(properties.messageId ? { messageId: properties.messageId } : {}),
          ...(properties.correlationId ? { correlationId: properties.correlationId } : {}),
          ...(properties.type ? { type: properties.type } : {}),
          ...(properties.appId ? { appId: properties.appId } : {}),
          ...(properties.timestamp ? { timestamp: properties.timestamp } : {}),
          headers: {
            ...(properties.headers ?? {}),
            [ATTEMPT_HEADER]: attempt + 1,
            'x-faas-first-routing-key': properties.headers?.['x-faas-first-routing-key'] ?? message.fields.routingKey,
            'x-faas-first-exchange': properties.headers?.['x-faas-first-exchange'] ?? message.fields.exchange,
          },
        });
        once(() => channel.ack(message));
      },
    };
  }
}
