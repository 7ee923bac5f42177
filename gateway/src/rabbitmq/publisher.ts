// Publishing with publisher confirms: a publish resolves only once the broker
// has taken the message (persistent, to a durable queue: on disk), and
// rejects when it could not be routed anywhere (mandatory: a queue that does
// not exist), when the exchange does not exist, or when the broker is away.
// The connector publishes functions' answers (the output binding) and the
// copies of messages it retries with this.
import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Message, Options } from 'amqplib';
import type { RabbitConnection } from './connection.js';

const CONFIRM_TIMEOUT_MS = 10_000;

export class PublishError extends Error {}

export class Publisher {
  private channel: Promise<ConfirmChannel> | undefined;
  /** Message ids the broker returned as unroutable (a return comes before the confirm). */
  private readonly returned = new Set<string>();

  constructor(private readonly connection: RabbitConnection) {}

  private open(): Promise<ConfirmChannel> {
    this.channel ??= this.connection.confirmChannel().then(
      (channel) => {
        const forget = () => {
          if (this.channel && current === channel) this.channel = undefined;
        };
        const current = channel;
        // Every publish waiting for its confirm listens for the channel closing: as many as the functions have in flight.
        channel.setMaxListeners(0);
        channel.on('close', forget);
        channel.on('error', () => undefined); // the close that follows says it
        channel.on('return', (message: Message) => {
          const id = message.properties.messageId as string | undefined;
          if (id) this.returned.add(id);
        });
        return channel;
      },
      (error: unknown) => {
        this.channel = undefined;
        throw error;
      },
    );
    return this.channel;
  }

  /** Publishes and waits for the broker's confirm; `exchange` "" is the default exchange (routing key: a queue's name). */
  async publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish = {}): Promise<void> {
    const channel = await this.open();
    const messageId = (options.messageId as string | undefined) ?? randomUUID();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new PublishError(`RabbitMQ did not confirm the publish within ${CONFIRM_TIMEOUT_MS / 1000} s`)), CONFIRM_TIMEOUT_MS);
      const onClose = () => {
        clearTimeout(timer);
        reject(new PublishError(exchange ? `cannot publish to exchange ${exchange}: the broker closed the channel (does the exchange exist?)` : 'the channel closed before the broker confirmed the publish'));
      };
      channel.once('close', onClose);
      try {
        channel.publish(exchange, routingKey, content, { persistent: true, mandatory: true, ...options, messageId }, (error: unknown) => {
          clearTimeout(timer);
          channel.removeListener('close', onClose);
          if (error) reject(new PublishError(`RabbitMQ refused the message: ${String(error)}`));
          else resolve();
        });
      } catch (error) {
        clearTimeout(timer);
        channel.removeListener('close', onClose);
        this.channel = undefined;
        reject(new PublishError(`cannot publish: ${(error as Error).message}`));
      }
    });
    if (this.returned.delete(messageId)) {
      throw new PublishError(exchange ? `exchange ${exchange} routed the message nowhere (routing key ${JSON.stringify(routingKey)}: no queue bound for it)` : `queue ${routingKey} does not exist`);
    }
  }

  async close(): Promise<void> {
    const channel = this.channel;
    this.channel = undefined;
    await channel?.then((c) => c.close()).catch(() => undefined);
  }
}
