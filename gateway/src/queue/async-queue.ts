// The queue of asynchronous calls in NATS JetStream, as the gateway and the
// queue worker both use it: one work-queue stream of calls (a message stays
// until a worker acknowledges it, file storage), one stream of dead letters
// (kept ASYNC_DEAD_LETTER_MAX_AGE), and the reads the API needs (queue depth
// per function, dead letters). The connection is made in the background and
// kept forever: the gateway starts, and answers everything but asynchronous
// calls, while NATS is away.
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import {
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type StoredMsg,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { FunctionRef } from '../programs/gateway/provider/types.js';
import { CALL_HEADER, callSubject, decodeCall, decodeFailure, encodeCall, encodeFailure, FAILURE_HEADER, refOfSubject, type Failure, type QueuedCall } from './call-message.js';

export interface QueueSettings {
  NATS_URL: string;
  ASYNC_STREAM: string;
  ASYNC_DEAD_LETTER_MAX_AGE: number;
}

/** The queue cannot be reached (NATS down, or not answering in time): the caller answers 503. */
export class QueueUnavailable extends Error {}

export interface DeadLetter {
  /** The dead letter's sequence number in its stream: what replay and delete take. */
  id: number;
  callId: string;
  function: string;
  namespace: string;
  method: string;
  path: string;
  query: string;
  callbackUrl?: string;
  acceptedAt: string;
  failedAt: string;
  attempts: number;
  status: number;
  reason: string;
  bodyBytes: number;
}

const NANOS_PER_MS = 1_000_000;
/** How long a publish or an API call may wait for NATS before the caller gives up. */
const REQUEST_TIMEOUT_MS = 5_000;
/** An accept waits less: its caller is waiting for the 202 (a PubAck takes milliseconds). */
const ACCEPT_TIMEOUT_MS = 3_000;

export class AsyncQueue {
  readonly stream: string;
  readonly deadStream: string;
  private connection: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private jsm: JetStreamManager | undefined;
  /** Set while the streams are known to exist on the server we are connected to. */
  private streamsReady: Promise<void> | undefined;
  private closed = false;
  private disconnected = false;
  private readonly connected: Promise<NatsConnection>;

  constructor(
    private readonly settings: QueueSettings,
    private readonly log: Logger,
    clientName: string,
  ) {
    this.stream = settings.ASYNC_STREAM;
    this.deadStream = `${settings.ASYNC_STREAM}-dead`;
    this.connected = this.open(clientName);
    this.connected.catch(() => undefined);
  }

  private async open(clientName: string): Promise<NatsConnection> {
    const nc = await connect({
      servers: this.settings.NATS_URL.split(',').map((s) => s.trim()),
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
        if (status.type === 'disconnect') this.disconnected = true;
        if (status.type === 'disconnect') this.log.warn({ server: status.server }, 'NATS connection lost: reconnecting');
        if (status.type === 'reconnect') {
          // A server that lost its storage has no streams: make them again on the next use.
          this.streamsReady = undefined;
          this.disconnected = false;
          this.log.info({ server: status.server }, 'reconnected to NATS');
        }
      }
    })().catch(() => undefined);
    return nc;
  }

  /** Connected now (a call would be attempted). */
  get isConnected(): boolean {
    return this.connection !== undefined && !this.connection.isClosed() && !this.disconnected;
  }

  /** The connection's JetStream handles, waiting for the first connection at most `waitMs`. */
  async handles(waitMs = REQUEST_TIMEOUT_MS): Promise<{ nc: NatsConnection; js: JetStreamClient; jsm: JetStreamManager }> {
    if (!this.connection) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new QueueUnavailable(`no connection to NATS at ${this.settings.NATS_URL}`)), waitMs);
      });
      try {
        await Promise.race([this.connected, timeout]);
      } catch (error) {
        throw unavailable(error); // e.g. a NATS_URL that is not one
      } finally {
        clearTimeout(timer);
      }
    }
    await this.ensureStreams();
    return { nc: this.connection!, js: this.js!, jsm: this.jsm! };
  }

  /** After an answer that says the streams are gone (a NATS that lost its store): make them again on the next use. */
  forgetStreams(error?: unknown): void {
    if (error === undefined || isStreamMissing(error)) this.streamsReady = undefined;
  }

  /** Makes the two streams when they do not exist (idempotent; every gateway and worker does it). */
  ensureStreams(): Promise<void> {
    this.streamsReady ??= this.makeStreams().catch((error: unknown) => {
      this.streamsReady = undefined;
      throw unavailable(error);
    });
    return this.streamsReady;
  }

  private async makeStreams(): Promise<void> {
    const jsm = this.jsm!;
    await addStream(jsm, {
      name: this.stream,
      subjects: [`${this.stream}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      // A retried accept (its PubAck was lost) is stored once.
      duplicate_window: 120_000 * NANOS_PER_MS,
    });
    await addStream(jsm, {
      name: this.deadStream,
      subjects: [`${this.deadStream}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: Math.round(this.settings.ASYNC_DEAD_LETTER_MAX_AGE * 1000) * NANOS_PER_MS,
      duplicate_window: 120_000 * NANOS_PER_MS,
    });
  }

  /**
   * Stores a call; resolves once JetStream has it on disk (its PubAck).
   * `messageId` makes a retried publish of the same call count once.
   */
  async enqueue(call: QueuedCall, messageId: string): Promise<number> {
    // Known to be away: say so now rather than after the publish timeout.
    if (this.disconnected) throw new QueueUnavailable(`the queue (NATS JetStream) is not available: reconnecting to ${this.settings.NATS_URL}`);
    // Not connected yet (the gateway has just started, or NATS never answered): a caller waits a second at most.
    const { js } = await this.handles(1_000);
    const { header, data } = encodeCall(call);
    const h = natsHeaders();
    h.set(CALL_HEADER, header);
    try {
      const ack = await js.publish(callSubject(this.stream, call.ref), data, { msgID: messageId, headers: h, timeout: ACCEPT_TIMEOUT_MS });
      return ack.seq;
    } catch (error) {
      // The stream may have gone with the server's storage: make it again once.
      if (isStreamMissing(error)) {
        this.streamsReady = undefined;
        await this.ensureStreams();
        const ack = await js.publish(callSubject(this.stream, call.ref), data, { msgID: messageId, headers: h, timeout: ACCEPT_TIMEOUT_MS });
        return ack.seq;
      }
      this.forgetStreams(error);
      throw unavailable(error);
    }
  }

  /** Keeps a call that failed for good. */
  async addDeadLetter(call: QueuedCall, failure: Failure, messageId: string): Promise<number> {
    const { js } = await this.handles();
    const { header, data } = encodeCall(call);
    const h = natsHeaders();
    h.set(CALL_HEADER, header);
    h.set(FAILURE_HEADER, encodeFailure(failure));
    try {
      const ack = await js.publish(callSubject(this.deadStream, call.ref), data, { msgID: messageId, headers: h, timeout: REQUEST_TIMEOUT_MS });
      return ack.seq;
    } catch (error) {
      this.forgetStreams(error);
      throw unavailable(error);
    }
  }

  /** Messages stored per function in a stream (the calls waiting or being worked on; or the dead letters). */
  async countsByFunction(which: 'queue' | 'dead'): Promise<Array<{ ref: FunctionRef; count: number }>> {
    const { jsm } = await this.handles();
    const stream = which === 'queue' ? this.stream : this.deadStream;
    try {
      const info = await jsm.streams.info(stream, { subjects_filter: '>' });
      return Object.entries(info.state.subjects ?? {}).flatMap(([subject, count]) => {
        const ref = refOfSubject(subject);
        return ref ? [{ ref, count }] : [];
      });
    } catch (error) {
      this.forgetStreams(error);
      throw unavailable(error);
    }
  }

  /** Drops every call queued for a function (those being worked on finish; their acknowledgement finds nothing). */
  async purge(ref: FunctionRef): Promise<number> {
    const { jsm } = await this.handles();
    try {
      return (await jsm.streams.purge(this.stream, { filter: callSubject(this.stream, ref) })).purged;
    } catch (error) {
      this.forgetStreams(error);
      throw unavailable(error);
    }
  }

  /** Dead letters in order, from `after` (an id) on, optionally of one function; at most `limit`. */
  async listDeadLetters(options: { ref?: FunctionRef; after?: number; limit: number }): Promise<DeadLetter[]> {
    const { jsm } = await this.handles();
    const filter = options.ref ? callSubject(this.deadStream, options.ref) : `${this.deadStream}.>`;
    const letters: DeadLetter[] = [];
    let seq = (options.after ?? 0) + 1;
    try {
      while (letters.length < options.limit) {
        const message = await jsm.streams.getMessage(this.deadStream, { seq, next_by_subj: filter } as unknown as { seq: number });
        if (!message) break;
        letters.push(describeDeadLetter(message));
        seq = message.seq + 1;
      }
    } catch (error) {
      this.forgetStreams(error);
      throw unavailable(error);
    }
    return letters;
  }

  async getDeadLetter(id: number): Promise<{ letter: DeadLetter; call: QueuedCall } | undefined> {
    const { jsm } = await this.handles();
    let message: StoredMsg | null;
    try {
      message = await jsm.streams.getMessage(this.deadStream, { seq: id });
    } catch (error) {
      this.forgetStreams(error);
      throw unavailable(error);
    }
    if (!message || !message.subject.startsWith(`${this.deadStream}.`)) return undefined;
    return { letter: describeDeadLetter(message), call: decodeCall(message.header.get(CALL_HEADER), message.data) };
  }

  /**
   * Queues a dead letter's call again (a new message, attempts from one) and
   * removes the dead letter. A replay repeated within two minutes (the
   * answer was lost) queues the call once.
   */
  async replayDeadLetter(id: number): Promise<DeadLetter | undefined> {
    const found = await this.getDeadLetter(id);
    if (!found) return undefined;
    await this.enqueue(found.call, `replay-${this.deadStream}-${id}`);
    await this.deleteDeadLetter(id);
    return found.letter;
  }

  async deleteDeadLetter(id: number): Promise<boolean> {
    const { jsm } = await this.handles();
    try {
      return await jsm.streams.deleteMessage(this.deadStream, id, false);
    } catch (error) {
      // 2.9 answers a sequence that is not there with "stream store EOF", later servers with "no message found".
      if (error instanceof JetStreamApiError && /no message found|not found|EOF/i.test(error.message)) return false;
      this.forgetStreams(error);
      throw unavailable(error);
    }
  }

  /**
   * Calls that the stream still holds although the function's consumer has
   * acknowledged past them. A NATS server killed between recording an
   * acknowledgement and removing the message leaves such messages behind;
   * no consumer will deliver them again. They are queued anew (a duplicate
   * at worst, never a loss) and the old copy removed. Answers how many.
   */
  async requeueStranded(ref: FunctionRef, consumer: string): Promise<number> {
    const { js, jsm } = await this.handles();
    const info = await jsm.consumers.info(this.stream, consumer);
    const floor = info.ack_floor.stream_seq;
    const subject = callSubject(this.stream, ref);
    const candidates: number[] = [];
    for (let seq = 1; ; ) {
      const message = await jsm.streams.getMessage(this.stream, { seq, next_by_subj: subject } as unknown as { seq: number });
      if (!message || message.seq > floor) break;
      candidates.push(message.seq);
      seq = message.seq + 1;
    }
    if (candidates.length === 0) return 0;
    // A message acknowledged a moment ago may not be removed yet: only what is still there a little later.
    await new Promise((r) => setTimeout(r, 2_000));
    let moved = 0;
    for (const seq of candidates) {
      const message = await jsm.streams.getMessage(this.stream, { seq }).catch(() => null);
      if (!message) continue;
      const h = natsHeaders();
      h.set(CALL_HEADER, message.header.get(CALL_HEADER));
      await js.publish(subject, message.data, { msgID: `stranded-${this.stream}-${message.seq}`, headers: h, timeout: REQUEST_TIMEOUT_MS });
      await jsm.streams.deleteMessage(this.stream, message.seq, false).catch(() => false);
      moved++;
    }
    return moved;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.connection) await this.connection.drain().catch(() => this.connection?.close());
  }
}

/** Makes a stream unless it exists; another gateway or worker making it at the same moment is fine. */
export async function addStream(jsm: JetStreamManager, config: Parameters<JetStreamManager['streams']['add']>[0] & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
    return;
  } catch (error) {
    if (!isStreamMissing(error)) throw error;
  }
  try {
    await jsm.streams.add(config);
  } catch (error) {
    // Another gateway or worker made it a moment ago.
    if (!(error instanceof JetStreamApiError && /already in use|already exists/i.test(error.message))) throw error;
  }
}

export function isStreamMissing(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''}`;
  // A publish with no stream to take it: "no responders", which the client reports as "jetstream is not enabled".
  return /stream not found|no stream matches subject|StreamNotFound|no responders|jetstream is not enabled/i.test(text);
}

function unavailable(error: unknown): Error {
  if (error instanceof QueueUnavailable) return error;
  return new QueueUnavailable(`the queue (NATS JetStream) is not available: ${(error as Error)?.message ?? String(error)}`);
}

function describeDeadLetter(message: StoredMsg): DeadLetter {
  const call = decodeCall(message.header.get(CALL_HEADER), message.data);
  const failure = decodeFailure(message.header.get(FAILURE_HEADER)) ?? { status: 0, reason: 'unknown', attempts: 0, failedAt: message.time.getTime() };
  return {
    id: message.seq,
    callId: call.callId,
    function: call.ref.name,
    namespace: call.ref.namespace,
    method: call.method,
    path: call.path,
    query: call.query,
    ...(call.callbackUrl !== undefined ? { callbackUrl: call.callbackUrl } : {}),
    acceptedAt: new Date(call.acceptedAt).toISOString(),
    failedAt: new Date(failure.failedAt).toISOString(),
    attempts: failure.attempts,
    status: failure.status,
    reason: failure.reason,
    bodyBytes: call.body.length,
  };
}
