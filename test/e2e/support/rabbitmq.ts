// Helpers of the RabbitMQ suite: the stack's broker as a producer outside the
// swarm reaches it (its published AMQP port), queues declared as a user
// declares them, publishing with confirms, and a consumer of `downstream`
// that keeps every answer the connector published there.
import { connect, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { inject } from 'vitest';

export interface Broker {
  model: ChannelModel;
  channel: ConfirmChannel;
  close(): Promise<void>;
}

/** A connection to the stack's broker, retried while it (re)starts. */
export async function broker(timeoutMs = 300_000): Promise<Broker> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const model = await connect(inject('rabbitmqUrl'), { timeout: 5_000 });
      model.on('error', () => undefined);
      const channel = await model.createConfirmChannel();
      channel.on('error', () => undefined);
      return { model, channel, close: () => model.close().catch(() => undefined) };
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}

/** A durable queue (the stack's broker dead-letters it into faas.dead-letter by its policy). */
export async function declare(channel: Channel, ...queues: string[]): Promise<void> {
  for (const queue of queues) await channel.assertQueue(queue, { durable: true });
}

/** Publishes persistent messages and waits for the broker to confirm them all (they are on disk then). */
export async function publishAll(channel: ConfirmChannel, queue: string, bodies: Array<{ id: string; body: string }>): Promise<void> {
  for (const { id, body } of bodies) {
    if (!channel.sendToQueue(queue, Buffer.from(body), { persistent: true, messageId: id, timestamp: Math.floor(Date.now() / 1000), headers: { 'x-published-at': String(Date.now()) } })) {
      await new Promise((r) => channel.once('drain', r));
    }
  }
  await channel.waitForConfirms();
}

export interface Answer {
  sourceId: string;
  callId: string;
  body: string;
  at: number;
}

/** Keeps every message of `queue` (acked as taken). */
export async function collect(model: ChannelModel, queue: string): Promise<{ answers: Answer[]; stop(): Promise<void> }> {
  const channel = await model.createChannel();
  const answers: Answer[] = [];
  const { consumerTag } = await channel.consume(queue, (m) => {
    if (!m) return;
    const headers = m.properties.headers ?? {};
    answers.push({ sourceId: String(headers['x-source-message-id'] ?? ''), callId: String(headers['x-call-id'] ?? ''), body: m.content.toString(), at: Date.now() });
    channel.ack(m);
  });
  return {
    answers,
    stop: async () => {
      await channel.cancel(consumerTag).catch(() => undefined);
      await channel.close().catch(() => undefined);
    },
  };
}

/** One line of the RabbitMQ figures (grep "[rabbitmq]" in the test output). */
export function report(line: string): void {
  process.stderr.write(`[rabbitmq] ${line}\n`);
}
