// A program's queue: one NATS connection and the ports built on it. The
// gateway, the queue worker and the connector each open one.
import type { Logger } from 'pino';
import { AsyncCalls } from './async-calls.js';
import { QueueConnection } from './connection.js';
import { Consumers } from './consumers.js';
import { EventBus } from './events.js';
import { StoreGauge } from './store-gauge.js';
import { Streams, type StreamSettings } from './streams.js';

export interface QueueSettings extends StreamSettings {
  NATS_URL: string;
  NATS_MONITORING_URL: string;
  QUEUE_STORE_SIZE: number;
  QUEUE_STORE_FULL_AT: number;
}

export interface Queue {
  connection: QueueConnection;
  streams: Streams;
  calls: AsyncCalls;
  events: EventBus;
  consumers: Consumers;
  readonly isConnected: boolean;
  close(): Promise<void>;
}

/** `applyLimits`: bring existing streams' limits to the settings (the gateway does; the other programs only make missing streams). */
export function openQueue(settings: QueueSettings, log: Logger, clientName: string, options: { applyLimits: boolean }): Queue {
  const connection = new QueueConnection(settings.NATS_URL, log.child({ component: 'nats' }), clientName);
  const streams = new Streams(connection, settings, options);
  const store = settings.NATS_MONITORING_URL ? new StoreGauge(settings.NATS_MONITORING_URL, settings.QUEUE_STORE_SIZE, settings.QUEUE_STORE_FULL_AT) : undefined;
  return {
    connection,
    streams,
    calls: new AsyncCalls(connection, streams, store, log),
    events: new EventBus(connection, streams, store),
    consumers: new Consumers(connection),
    get isConnected() {
      return connection.isConnected;
    },
    close: () => connection.close(),
  };
}
