// The one NATS connection of a program, made in the background and kept
// forever: a program starts, and does everything but its queue work, while
// NATS is away. Only the modules of queue/ hold its handles; the rest of the
// code sees the queue through their narrow ports (async-calls.ts, events.ts,
// consumers.ts, function-catalog.ts, wake-requests.ts).
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { QueueUnavailable, unavailable } from './errors.js';

/** How long a publish or an API call may wait for NATS before the caller gives up. */
export const REQUEST_TIMEOUT_MS = 5_000;
/** After a request went unanswered: how long a probe may wait, and the pause between probes. */
const PROBE_TIMEOUT_MS = 1_000;
const PROBE_EVERY_MS = 500;

export interface Handles {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

export class QueueConnection {
  private connection: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  private closed = false;
  private disconnected = false;
  /** A request went unanswered and no probe has been answered since (see noteUnanswered). */
  private silent = false;
  private readonly connected: Promise<NatsConnection>;
  private readonly reconnectListeners = new Set<() => void>();

  constructor(
    readonly url: string,
    private readonly log: Logger,
    clientName: string,
  ) {
    this.connected = this.open(clientName);
    this.connected.catch(() => undefined);
  }

  private async open(clientName: string): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.url.split(',').map((s) => s.trim()),
      name: clientName,
      // Keep trying forever, from the first connection on: NATS may start after us, and may restart.
      waitOnFirstConnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      timeout: 5_000,
      pingInterval: 10_000,
      maxPingOut: 2,
    });
    if (this.closed) {
      await nc.close();
      throw new Error('closed');
    }
    this.js = jetstream(nc, { timeout: REQUEST_TIMEOUT_MS });
    this.jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT_MS, checkAPI: false });
    // Set last: handles() takes a connection as the sign that the JetStream handles are there.
    this.connection = nc;
    this.log.info({ server: nc.getServer() }, 'connected to NATS');
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect') {
          this.disconnected = true;
          this.log.warn({ server: status.server }, 'NATS connection lost: reconnecting');
        }
        if (status.type === 'reconnect') {
          this.disconnected = false;
          this.log.info({ server: status.server }, 'reconnected to NATS');
          // A server that lost its storage has no streams: whoever keeps one makes it again.
          for (const listener of this.reconnectListeners) listener();
        }
      }
    })().catch(() => undefined);
    return nc;
  }

  /** Connected now (a call would be attempted). */
  get isConnected(): boolean {
    return this.connection !== undefined && !this.connection.isClosed() && !this.disconnected && !this.silent;
  }

  /** Why NATS is known to be away now (reconnecting, or not answering), or undefined. */
  get away(): string | undefined {
    if (this.disconnected) return `reconnecting to ${this.url}`;
    if (this.silent) return `${this.url} does not answer (it may have gone without closing the connection): waiting for it to answer again`;
    return undefined;
  }

  /**
   * A request went unanswered in time. A NATS that died without closing the
   * connection (its node or network gone) is noticed by the pings only after
   * tens of seconds, and every caller would wait its whole timeout meanwhile:
   * until NATS answers a probe (its JetStream API, every PROBE_EVERY_MS),
   * `away` says so and callers are refused at once.
   */
  noteUnanswered(): void {
    if (this.silent || this.closed) return;
    this.silent = true;
    this.log.warn({ server: this.url }, 'NATS did not answer in time: refusing at once until it answers again');
    void this.probe();
  }

  private async probe(): Promise<void> {
    while (this.silent && !this.closed) {
      try {
        const { nc } = await this.handles(PROBE_TIMEOUT_MS);
        await nc.request('$JS.API.INFO', undefined, { timeout: PROBE_TIMEOUT_MS });
        this.silent = false;
        this.log.info({ server: this.url }, 'NATS answers again');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
      }
    }
  }

  /** Called after each reconnection. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.add(listener);
  }

  /** The connection's handles, waiting for the first connection at most `waitMs`. */
  async handles(waitMs = REQUEST_TIMEOUT_MS): Promise<Handles> {
    if (!this.connection) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueueUnavailable(`no connection to NATS at ${this.url}`)), waitMs);
      });
      try {
        await Promise.race([this.connected, timeout]);
      } catch (error) {
        throw unavailable(error); // e.g. a NATS_URL that is not one
      } finally {
        clearTimeout(timer);
      }
    }
    return { nc: this.connection!, js: this.js!, jsm: this.jsm! };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connection) await this.connection.drain().catch(() => this.connection?.close());
  }
}
