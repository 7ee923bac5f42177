// Events in NATS, as the connector (subscriptions, ticks, replies, runs), the
// gateway's publish route and the UI's page use them: the port every program
// uses instead of NATS handles. Durable topics go through faas-events (which
// captures the subjects functions subscribe to durably), schedule ticks
// through faas-cron, and each function's last runs are kept in faas-runs
// (streams.ts has their limits).
import { headers as natsHeaders, type Msg, type MsgHdrs, type Subscription } from '@nats-io/transport-node';
import type { ConsumerInfo } from '@nats-io/jetstream';
import type { FunctionRef } from '../core/functions/types.js';
import { functionSubject } from '../core/events/triggers.js';
import { subjectMatches } from '../core/events/subjects.js';
import type { QueueConnection } from './connection.js';
import { isNotFound, isStreamMissing, isTimeout, QueueUnavailable, StoreFull, unavailable } from './errors.js';
import type { StoreGauge } from './store-gauge.js';
import { CRON_STREAM, EVENTS_PLACEHOLDER_SUBJECT, EVENTS_STREAM, RUNS_KEPT, RUNS_STREAM, type Streams } from './streams.js';

/** Headers as a message carries them: a name, one or more values. */
export type MessageHeaders = Record<string, string[]>;

/** A message as a subscription hands it over. */
export interface EventMessage {
  subject: string;
  data: Uint8Array;
  headers: MessageHeaders;
  /** The requester's reply subject (a request), when there is one. */
  reply?: string;
}

/** One run of a function by an event, as the UI lists it. */
export interface RunRecord {
  /** When the invocation started (ms since the epoch). */
  at: number;
  trigger: 'topic' | 'schedule' | 'rabbitmq';
  /** The message's subject; for a schedule, the expression; for RabbitMQ, the queue. */
  subject: string;
  delivery: 'at-most-once' | 'durable' | 'schedule' | 'rabbitmq';
  /** RabbitMQ: where the answer was published (queue, or exchange/routing key). */
  published?: string;
  /** The function's status (0: no answer; the gateway's 502/503/504 when it had none). */
  status: number;
  outcome: 'success' | 'failure' | 'retry' | 'dead_letter';
  durationMs: number;
  attempt: number;
  callId: string;
  reason?: string;
}

/** No durable subscription's stream captures the subject yet (one made seconds ago): publish it at-most-once. */
export class NotCaptured extends Error {}

const RETRY_AFTER_FULL_S = 5;

export class EventBus {
  constructor(
    private readonly connection: QueueConnection,
    private readonly streams: Streams,
    private readonly store?: StoreGauge,
  ) {}

  get isConnected(): boolean {
    return this.connection.isConnected;
  }

  /** Why NATS is known to be away now, or undefined. */
  get away(): string | undefined {
    return this.connection.away;
  }

  /** Makes the streams of events when missing (idempotent: every connector and gateway does it). */
  async ensure(): Promise<void> {
    const { events, cron, runs } = this.streams.specs;
    await Promise.all([this.streams.ensure(events), this.streams.ensure(cron), this.streams.ensure(runs)]);
  }

  /** After an error that says a stream is gone (a NATS that lost its store): make them again next time. */
  forget(error?: unknown): void {
    this.streams.forget(error);
  }

  /** Stores a message for the functions subscribed durably (resolves with JetStream's acknowledgement). */
  async publishDurable(subject: string, data: Uint8Array, headers: MessageHeaders, messageId?: string): Promise<{ seq: number; duplicate: boolean }> {
    const full = await this.store?.fullness();
    if (full) throw new StoreFull(full, RETRY_AFTER_FULL_S);
    const { js } = await this.connected();
    try {
      const ack = await js.publish(subject, data, { headers: toNats(headers), timeout: 3_000, ...(messageId ? { msgID: messageId } : {}) });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (error) {
      const text = String((error as Error).message);
      if (/maximum (messages|bytes) exceeded/i.test(text)) throw new StoreFull(`the stream of durable topic messages (${EVENTS_STREAM}) is full (EVENTS_MAX_BYTES): try again once the functions have taken some`, RETRY_AFTER_FULL_S);
      // "No stream takes it" is also what a JetStream still recovering says: only a stream that answers and captures no such subject means at-most-once.
      if (isStreamMissing(error) && !(await this.captures(subject))) throw new NotCaptured(text);
      if (isTimeout(error)) this.connection.noteUnanswered();
      throw new QueueUnavailable(`NATS JetStream did not store the message: ${text}`);
    }
  }

  /** Whether faas-events captures the subject now; throws QueueUnavailable when JetStream cannot say. */
  private async captures(subject: string): Promise<boolean> {
    const { jsm } = await this.connection.handles(1_000);
    try {
      const info = await jsm.streams.info(EVENTS_STREAM);
      return (info.config.subjects ?? []).some((pattern) => subjectMatches(pattern, subject));
    } catch (error) {
      throw unavailable(error, 'NATS JetStream');
    }
  }

  /** Publishes at-most-once (to whoever listens now); resolves once the server has it. */
  async publish(subject: string, data: Uint8Array, headers: MessageHeaders): Promise<void> {
    const { nc } = await this.connected();
    try {
      nc.publish(subject, data, { headers: toNats(headers) });
      await nc.flush();
    } catch (error) {
      throw new QueueUnavailable(`NATS did not take the message: ${(error as Error).message}`);
    }
  }

  /** A request: the first answer on the reply subject. Rejects with 'no responders' / 'timeout' in the message. */
  async request(subject: string, data: Uint8Array, headers: MessageHeaders, timeoutMs: number): Promise<{ data: Uint8Array; headers: MessageHeaders }> {
    const { nc } = await this.connected();
    const answer = await nc.request(subject, data, { headers: toNats(headers), timeout: timeoutMs });
    return { data: answer.data, headers: fromNats(answer.headers) };
  }

  /** A core subscription in a queue group (each message reaches one member); returns how to stop it. */
  async subscribe(subject: string, queueGroup: string, onMessage: (message: EventMessage) => void, onError: (error: Error) => void): Promise<() => void> {
    const { nc } = await this.connection.handles();
    const subscription: Subscription = nc.subscribe(subject, {
      queue: queueGroup,
      callback: (error, msg: Msg) => (error ? onError(error) : onMessage({ subject: msg.subject, data: msg.data, headers: fromNats(msg.headers), ...(msg.reply ? { reply: msg.reply } : {}) })),
    });
    return () => subscription.unsubscribe();
  }

  /** Answers a request (fire and forget). */
  async reply(to: string, data: Uint8Array, headers: MessageHeaders): Promise<void> {
    const { nc } = await this.connection.handles();
    nc.publish(to, data, { headers: toNats(headers) });
  }

  /** Stores one tick of a schedule; every connector publishes it with the same id, so it is stored once. */
  async publishTick(subject: string, tickId: string, headers: MessageHeaders): Promise<void> {
    await this.streams.ensure(this.streams.specs.cron);
    const { js } = await this.connection.handles(1_000);
    try {
      await js.publish(subject, new Uint8Array(0), { headers: toNats(headers), msgID: tickId, timeout: 3_000 });
    } catch (error) {
      this.streams.forget(error);
      throw unavailable(error);
    }
  }

  /** The subjects faas-events captures now (the placeholder left out). */
  async capturedSubjects(): Promise<string[]> {
    const { jsm } = await this.ready();
    try {
      const info = await jsm.streams.info(EVENTS_STREAM);
      return (info.config.subjects ?? []).filter((s) => s !== EVENTS_PLACEHOLDER_SUBJECT);
    } catch (error) {
      this.forget(error);
      throw unavailable(error, 'NATS JetStream');
    }
  }

  /**
   * Makes faas-events capture exactly `subjects` (none covered by another).
   * Read, change, write: two connectors changing it at the same moment may
   * undo each other's change, so each checks again on its next pass (every
   * few seconds) and puts back what it needs.
   */
  async captureSubjects(subjects: readonly string[]): Promise<boolean> {
    const { jsm } = await this.ready();
    try {
      const info = await jsm.streams.info(EVENTS_STREAM);
      const current = new Set(info.config.subjects ?? []);
      const wanted = new Set([EVENTS_PLACEHOLDER_SUBJECT, ...subjects]);
      if (current.size === wanted.size && [...wanted].every((s) => current.has(s))) return false;
      await jsm.streams.update(EVENTS_STREAM, { ...info.config, subjects: [...wanted].sort() });
      return true;
    } catch (error) {
      this.forget(error);
      throw unavailable(error, 'NATS JetStream');
    }
  }

  /** The consumers of a stream, each with its pending and delivered counts. */
  async consumers(stream: string): Promise<ConsumerInfo[]> {
    const { jsm } = await this.ready();
    try {
      const out: ConsumerInfo[] = [];
      for await (const info of jsm.consumers.list(stream)) out.push(info);
      return out;
    } catch (error) {
      this.forget(error);
      throw unavailable(error, 'NATS JetStream');
    }
  }

  async deleteConsumer(stream: string, name: string): Promise<void> {
    const { jsm } = await this.ready();
    await jsm.consumers.delete(stream, name).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
  }

  /** Keeps a run (fire and forget: JetStream stores it without an acknowledgement; a lost one is only a line less in the UI). */
  async recordRun(ref: FunctionRef, run: RunRecord): Promise<void> {
    await this.streams.ensure(this.streams.specs.runs);
    const { nc } = await this.connection.handles();
    nc.publish(functionSubject(RUNS_STREAM, ref), JSON.stringify(run));
  }

  /** The function's last runs, oldest first. */
  async lastRuns(ref: FunctionRef): Promise<RunRecord[]> {
    const { jsm } = await this.ready();
    const subject = functionSubject(RUNS_STREAM, ref);
    const runs: RunRecord[] = [];
    try {
      let seq = 1;
      // At most RUNS_KEPT are kept per function: at most that many reads, each jumping to the next of its subject.
      for (let i = 0; i < RUNS_KEPT + 5; i++) {
        const message = await jsm.streams.getMessage(RUNS_STREAM, { seq, next_by_subj: subject } as unknown as { seq: number });
        if (!message) break;
        try {
          runs.push(JSON.parse(new TextDecoder().decode(message.data)) as RunRecord);
        } catch {
          // not one of ours
        }
        seq = message.seq + 1;
      }
    } catch (error) {
      this.forget(error);
      throw unavailable(error, 'NATS JetStream');
    }
    return runs;
  }

  /** The handles once the streams of events exist. */
  private async ready() {
    await this.ensure();
    return this.connection.handles();
  }

  /** The handles of a connection that is up now (a publisher is told at once when NATS is away). */
  private async connected() {
    const handles = await this.connection.handles(1_000);
    if (!this.connection.isConnected) throw new QueueUnavailable(`NATS is not available: ${this.connection.away ?? `not connected to ${this.connection.url} yet`}`);
    return handles;
  }
}

export { CRON_STREAM, EVENTS_STREAM, RUNS_STREAM };

function toNats(headers: MessageHeaders): MsgHdrs | undefined {
  const entries = Object.entries(headers);
  if (entries.length === 0) return undefined;
  const h = natsHeaders();
  for (const [name, values] of entries) for (const v of values) h.append(name, v);
  return h;
}

export function fromNats(headers: MsgHdrs | undefined): MessageHeaders {
  const out: MessageHeaders = {};
  if (!headers) return out;
  for (const [name, values] of headers) out[name] = [...values];
  return out;
}
