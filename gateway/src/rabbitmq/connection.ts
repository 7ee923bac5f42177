// The narrow port over RabbitMQ (amqplib), as queue/ is over NATS: the only
// code that imports amqplib. This file: where the broker is and with which
// credentials (Docker secrets, never the environment), and one connection
// per program, made again after it is lost, with what went wrong in words
// (for logs, the function page and GET /system/function/{name}/events).
import { existsSync, readFileSync } from 'node:fs';
import { connect, credentials, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';

export interface RabbitSettings {
  RABBITMQ_URL: string;
  RABBITMQ_MANAGEMENT_URL: string;
  RABBITMQ_USERNAME_FILE: string;
  RABBITMQ_PASSWORD_FILE: string;
  RABBITMQ_CA_FILE: string;
}

/** How to reach the broker: its address without credentials (for logs), and the credentials apart. */
export interface BrokerAccess {
  /** The URL to connect to, credentials left out (they go in the socket options). */
  url: string;
  username: string;
  password: string;
  vhost: string;
  ca?: Buffer;
  tls: boolean;
  managementUrl: string;
}

function secret(path: string): string | undefined {
  if (!path || !existsSync(path)) return undefined;
  return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
}

/** Reads the settings and the secrets once (at start: a program may drop privileges later). */
export function brokerAccess(settings: RabbitSettings): BrokerAccess {
  const parsed = new URL(settings.RABBITMQ_URL);
  const username = secret(settings.RABBITMQ_USERNAME_FILE) ?? (decodeURIComponent(parsed.username) || 'guest');
  const password = secret(settings.RABBITMQ_PASSWORD_FILE) ?? (decodeURIComponent(parsed.password) || 'guest');
  parsed.username = '';
  parsed.password = '';
  // amqp://host/ names the vhost "" in the AMQP URI spec; everyone means "/" by it.
  const path = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  const vhost = path === '' ? '/' : path;
  const ca = settings.RABBITMQ_CA_FILE && existsSync(settings.RABBITMQ_CA_FILE) ? readFileSync(settings.RABBITMQ_CA_FILE) : undefined;
  return { url: parsed.toString(), username, password, vhost, tls: parsed.protocol === 'amqps:', managementUrl: settings.RABBITMQ_MANAGEMENT_URL, ...(ca ? { ca } : {}) };
}

/** What went wrong with the broker, in words a user can act on. */
export function describeBrokerError(error: unknown, access: Pick<BrokerAccess, 'url' | 'username'>): string {
  const text = String((error as Error)?.message ?? error);
  const code = (error as { code?: string | number })?.code;
  if (/ACCESS_REFUSED|403|authentication|auth.*failed|PLAIN login refused/i.test(text)) return `the broker refused the credentials of user ${access.username} (${text.split('\n')[0]})`;
  if (/NOT_ALLOWED.*vhost|access to vhost/i.test(text)) return `user ${access.username} may not use the broker's virtual host (${text.split('\n')[0]})`;
  if (code === 'ECONNREFUSED') return `nothing answers at ${access.url} (connection refused)`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `the broker's host in ${access.url} is not known (DNS)`;
  if (code === 'ETIMEDOUT' || /timeout/i.test(text)) return `the broker at ${access.url} did not answer in time`;
  if (/certificate|self.signed|CERT_|SSL|TLS/i.test(text)) return `TLS with ${access.url} failed: ${text} (a CA bundle for it: RABBITMQ_CA_FILE)`;
  return text.split('\n')[0] ?? text;
}

export type ConnectionListener = (model: ChannelModel) => void;

/** One connection to the broker, made again (1 s, doubling to 15 s) whenever it is lost. */
export class RabbitConnection {
  private model: ChannelModel | undefined;
  private stopped = false;
  private attempt = 0;
  private readonly listeners = new Set<ConnectionListener>();
  private timer: NodeJS.Timeout | undefined;
  /** What went wrong last (undefined while connected). */
  problem: string | undefined = 'not connected yet';

  constructor(
    readonly access: BrokerAccess,
    private readonly log: Logger,
    private readonly name: string,
  ) {}

  get connected(): boolean {
    return this.model !== undefined;
  }

  start(): void {
    if (!this.timer && !this.model) void this.open();
  }

  /** Told of each new connection (at once when connected now). */
  onConnected(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    if (this.model) listener(this.model);
    return () => this.listeners.delete(listener);
  }

  async channel(): Promise<Channel> {
    if (!this.model) throw new Error(`not connected to RabbitMQ: ${this.problem ?? 'connecting'}`);
    return this.model.createChannel();
  }

  async confirmChannel(): Promise<ConfirmChannel> {
    if (!this.model) throw new Error(`not connected to RabbitMQ: ${this.problem ?? 'connecting'}`);
    return this.model.createConfirmChannel();
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const model = this.model;
    this.model = undefined;
    await model?.close().catch(() => undefined);
  }

  private async open(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const { access } = this;
    try {
      // A broker that stops answering is noticed within ~30 s (two missed heartbeats), unless the URL says otherwise.
      const url = new URL(access.url);
      if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', '15');
      const model = await connect(url.toString(), {
        credentials: credentials.plain(access.username, access.password),
        clientProperties: { connection_name: this.name },
        timeout: 10_000,
        ...(access.ca ? { ca: [access.ca] } : {}),
        ...(access.tls ? { servername: new URL(access.url).hostname } : {}),
      });
      if (this.stopped) {
        await model.close().catch(() => undefined);
        return;
      }
      this.model = model;
      this.problem = undefined;
      if (this.attempt > 0) this.log.info({ broker: access.url }, 'connected to RabbitMQ again');
      else this.log.info({ broker: access.url }, 'connected to RabbitMQ');
      this.attempt = 0;
      model.on('error', (error: Error) => {
        this.problem = describeBrokerError(error, access);
      });
      model.on('close', (error?: Error) => {
        if (this.model !== model) return;
        this.model = undefined;
        this.problem = error ? describeBrokerError(error, access) : 'the connection was closed';
        if (!this.stopped) {
          this.log.warn({ broker: access.url, reason: this.problem }, 'lost the connection to RabbitMQ: connecting again');
          this.schedule();
        }
      });
      for (const listener of this.listeners) {
        try {
          listener(model);
        } catch (error) {
          this.log.error({ err: error }, 'a RabbitMQ connection listener failed');
        }
      }
    } catch (error) {
      const problem = describeBrokerError(error, access);
      if (this.attempt === 0 || problem !== this.problem || this.attempt % 20 === 0) this.log.warn({ broker: access.url, reason: problem }, 'cannot connect to RabbitMQ: trying again');
      this.problem = problem;
      this.schedule();
    }
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.attempt++;
    const delay = Math.min(15_000, 1_000 * 2 ** Math.min(this.attempt - 1, 4));
    this.timer = setTimeout(() => void this.open(), delay);
    this.timer.unref();
  }
}
