// The queue of asynchronous calls, as the gateway (accepts, dead-letter
// routes, queue depth) and the queue worker (dead letters, stranded calls)
// use it. Each function has a stream of its own (streams.ts), so JetStream
// itself holds the function's limits across every gateway: a function at its
// limit is refused (QueueFull, 429) while the others are still accepted, and
// nothing accepted is ever dropped. Dead letters share one stream, capped,
// the oldest dropped first.
import { headers as natsHeaders } from '@nats-io/transport-node';
import type { StoredMsg } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { FunctionRef } from '../core/functions/types.js';
import { CALL_HEADER, callSubject, decodeCall, decodeFailure, encodeCall, encodeFailure, FAILURE_HEADER, refOfSubject, tokenToName, type Failure, type QueuedCall } from './call-message.js';
import { REQUEST_TIMEOUT_MS, type QueueConnection } from './connection.js';
import { isNotFound, isStreamMissing, isTimeout, QueueFull, QueueUnavailable, StoreFull, unavailable } from './errors.js';
import type { StoreGauge } from './store-gauge.js';
import { addStream, functionStream, functionStreamSpec, type QueueLimits, type Streams } from './streams.js';

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

/** A function's queued calls now: how many (waiting or being worked on), their size, and how many were ever queued. */
export interface QueueDepth {
  ref: FunctionRef;
  messages: number;
  bytes: number;
  /** The stream's last sequence number: it moves with every call queued. */
  lastSeq: number;
}

/**
 * An accept waits less than other requests: its caller is waiting for the 202 (a PubAck takes milliseconds;
 * no accept of a CI run under load took over 1 s while NATS was up). Past it the caller hears 503, and the
 * accepts after it are refused at once until NATS answers again (QueueConnection.noteUnanswered).
 */
const ACCEPT_TIMEOUT_MS = 2_000;
/** What a refused caller is told to wait. */
const RETRY_AFTER_FULL_S = 5;

export class AsyncCalls {
  /** Streams known to exist with the limits last applied ("<stream> <messages> <bytes>"). */
  private readonly ready = new Set<string>();

  constructor(
    private readonly connection: QueueConnection,
    private readonly streams: Streams,
    private readonly store: StoreGauge | undefined,
    private readonly log: Logger,
  ) {
    connection.onReconnect(() => this.ready.clear());
  }

  get prefix(): string {
    return this.streams.settings.ASYNC_STREAM;
  }

  get deadStream(): string {
    return `${this.prefix}-dead`;
  }

  /** The stream and the subject of a function's calls (the worker's consumer reads them). */
  streamOf(ref: FunctionRef): { stream: string; subject: string } {
    return functionStream(this.prefix, ref);
  }

  /**
   * Stores a call; resolves once JetStream has it on disk (its PubAck).
   * `messageId` makes a retried publish of the same call count once.
   * Throws QueueFull (the function's limits), StoreFull or QueueUnavailable.
   */
  async enqueue(call: QueuedCall, messageId: string, limits: QueueLimits): Promise<number> {
    // Known to be away: say so now rather than after the publish timeout.
    const away = this.connection.away;
    if (away) throw new QueueUnavailable(`the queue (NATS JetStream) is not available: ${away}`);
    const phases = new Phases();
    const full = await this.store?.fullness();
    phases.end('store gauge');
    if (full) throw new StoreFull(full, RETRY_AFTER_FULL_S);
    // Not connected yet (the gateway has just started, or NATS never answered): a caller waits a second at most.
    const { js } = await this.connection.handles(1_000);
    phases.end('connection');
    const { header, data } = encodeCall(call);
    const h = natsHeaders();
    h.set(CALL_HEADER, header);
    const { subject } = this.streamOf(call.ref);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.ensureStream(call.ref, limits, true);
        phases.end('stream');
        const ack = await js.publish(subject, data, { msgID: messageId, headers: h, timeout: ACCEPT_TIMEOUT_MS });
        phases.end('publish');
        phases.report(this.log, call.ref);
        return ack.seq;
      } catch (error) {
        phases.end('failed');
        phases.report(this.log, call.ref, error);
        const text = String((error as Error).message);
        if (/maximum (messages|bytes) exceeded|maximum messages per subject exceeded/i.test(text)) {
          const what = /bytes/i.test(text) ? `${limits.bytes} bytes (label com.openfaas.queue.max-bytes, setting QUEUE_MAX_BYTES)` : `${limits.messages} calls (label com.openfaas.queue.max-messages, setting QUEUE_MAX_MESSAGES)`;
          throw new QueueFull(
            `function ${call.ref.name} (namespace ${call.ref.namespace}) has as much queued as its limit allows, ${what}: try again once the queue worker has made some`,
            RETRY_AFTER_FULL_S,
          );
        }
        if (/insufficient resources|storage|no space/i.test(text)) throw new StoreFull(`the queue's store is full: ${text}`, RETRY_AFTER_FULL_S);
        // The stream may have gone with the server's storage: make it again once.
        if (attempt === 0 && isStreamMissing(error)) {
          this.forget(call.ref);
          continue;
        }
        if (isTimeout(error)) this.connection.noteUnanswered();
        throw unavailable(error);
      }
    }
  }

  /**
   * Makes the function's stream when it is missing (once per connection and
   * change of its limits); with `applyLimits` (the gateway's accepts), also
   * brings an existing stream's limits to `limits`.
   */
  async ensureStream(ref: FunctionRef, limits: Pick<QueueLimits, 'messages' | 'bytes'>, applyLimits = false): Promise<void> {
    const spec = functionStreamSpec(this.prefix, ref, limits);
    const key = `${spec.name} ${limits.messages} ${limits.bytes}`;
    if (this.ready.has(key)) return;
    const { jsm } = await this.connection.handles();
    await addStream(jsm, spec, applyLimits);
    for (const k of this.ready) if (k.startsWith(`${spec.name} `)) this.ready.delete(k);
    this.ready.add(key);
  }

  private forget(ref: FunctionRef): void {
    const name = this.streamOf(ref).stream;
    for (const k of this.ready) if (k.startsWith(`${name} `)) this.ready.delete(k);
  }

  /** Keeps a call that failed for good. */
  async addDeadLetter(call: QueuedCall, failure: Failure, messageId: string): Promise<number> {
    const { js } = await this.connection.handles();
    await this.streams.ensure(this.streams.specs.dead);
    const { header, data } = encodeCall(call);
    const h = natsHeaders();
    h.set(CALL_HEADER, header);
    h.set(FAILURE_HEADER, encodeFailure(failure));
    try {
      const ack = await js.publish(callSubject(this.deadStream, call.ref), data, { msgID: messageId, headers: h, timeout: REQUEST_TIMEOUT_MS });
      return ack.seq;
    } catch (error) {
      this.streams.forget(error, this.deadStream);
      throw unavailable(error);
    }
  }

  /** Every function's queued calls (those waiting or being worked on): one read of the stream list. */
  async depths(): Promise<QueueDepth[]> {
    const { jsm } = await this.connection.handles();
    const out: QueueDepth[] = [];
    const start = `${this.prefix}_`;
    try {
      for await (const info of jsm.streams.list(`${this.prefix}-fn.>`)) {
        const ref = refOfStream(info.config.name, start);
        if (ref) out.push({ ref, messages: info.state.messages, bytes: info.state.bytes, lastSeq: info.state.last_seq });
      }
    } catch (error) {
      throw unavailable(error);
    }
    return out;
  }

  /** Dead letters per function. */
  async deadCounts(): Promise<Array<{ ref: FunctionRef; count: number }>> {
    const { jsm } = await this.connection.handles();
    await this.streams.ensure(this.streams.specs.dead);
    try {
      const info = await jsm.streams.info(this.deadStream, { subjects_filter: '>' });
      return Object.entries(info.state.subjects ?? {}).flatMap(([subject, count]) => {
        const ref = refOfSubject(subject);
        return ref ? [{ ref, count }] : [];
      });
    } catch (error) {
      this.streams.forget(error, this.deadStream);
      throw unavailable(error);
    }
  }

  /** Drops every call queued for a function (those being worked on finish; their acknowledgement finds nothing). */
  async purge(ref: FunctionRef): Promise<number> {
    const { jsm } = await this.connection.handles();
    try {
      return (await jsm.streams.purge(this.streamOf(ref).stream)).purged;
    } catch (error) {
      if (isStreamMissing(error)) return 0;
      throw unavailable(error);
    }
  }

  /** Removes a function's stream once it holds no call (a removed function's; the next accept makes it again). */
  async removeIfEmpty(ref: FunctionRef): Promise<boolean> {
    const { jsm } = await this.connection.handles();
    const { stream } = this.streamOf(ref);
    try {
      const info = await jsm.streams.info(stream);
      if (info.state.messages > 0) return false;
      await jsm.streams.delete(stream);
      this.forget(ref);
      return true;
    } catch (error) {
      if (isStreamMissing(error)) return false;
      throw unavailable(error);
    }
  }

  /** Dead letters in order, from `after` (an id) on, optionally of one function; at most `limit`. */
  async listDeadLetters(options: { ref?: FunctionRef; after?: number; limit: number }): Promise<DeadLetter[]> {
    const { jsm } = await this.connection.handles();
    await this.streams.ensure(this.streams.specs.dead);
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
      this.streams.forget(error, this.deadStream);
      throw unavailable(error);
    }
    return letters;
  }

  async getDeadLetter(id: number): Promise<{ letter: DeadLetter; call: QueuedCall } | undefined> {
    const { jsm } = await this.connection.handles();
    let message: StoredMsg | null;
    try {
      message = await jsm.streams.getMessage(this.deadStream, { seq: id });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      this.streams.forget(error, this.deadStream);
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
  async replayDeadLetter(id: number, limits: QueueLimits): Promise<DeadLetter | undefined> {
    const found = await this.getDeadLetter(id);
    if (!found) return undefined;
    await this.enqueue(found.call, `replay-${this.deadStream}-${id}`, limits);
    await this.deleteDeadLetter(id);
    return found.letter;
  }

  async deleteDeadLetter(id: number): Promise<boolean> {
    const { jsm } = await this.connection.handles();
    try {
      return await jsm.streams.deleteMessage(this.deadStream, id, false);
    } catch (error) {
      // 2.9 answers a sequence that is not there with "stream store EOF", later servers with "no message found".
      if (/no message found|not found|EOF/i.test(String((error as Error).message))) return false;
      this.streams.forget(error, this.deadStream);
      throw unavailable(error);
    }
  }

  /**
   * Calls that the function's stream still holds although its consumer has
   * acknowledged past them. A NATS server killed between recording an
   * acknowledgement and removing the message leaves such messages behind;
   * no consumer will deliver them again. They are queued anew (a duplicate
   * at worst, never a loss) and the old copy removed. Answers how many.
   */
  async requeueStranded(ref: FunctionRef, consumer: string): Promise<number> {
    const { js, jsm } = await this.connection.handles();
    const { stream, subject } = this.streamOf(ref);
    const info = await jsm.consumers.info(stream, consumer);
    const floor = info.ack_floor.stream_seq;
    const candidates: number[] = [];
    for (let seq = 1; ; ) {
      const message = await jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as { seq: number });
      if (!message || message.seq > floor) break;
      candidates.push(message.seq);
      seq = message.seq + 1;
    }
    if (candidates.length === 0) return 0;
    // A message acknowledged a moment ago may not be removed yet: only what is still there a little later.
    await new Promise((r) => setTimeout(r, 2_000));
    let moved = 0;
    for (const seq of candidates) {
      const message = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (!message) continue;
      const h = natsHeaders();
      h.set(CALL_HEADER, message.header.get(CALL_HEADER));
      await js.publish(subject, message.data, { msgID: `stranded-${stream}-${message.seq}`, headers: h, timeout: REQUEST_TIMEOUT_MS });
      await jsm.streams.deleteMessage(stream, message.seq, false).catch(() => false);
      moved++;
    }
    return moved;
  }

  /**
   * Calls queued by an earlier version, in the one stream every function
   * shared ("<ASYNC_STREAM>", subjects "<ASYNC_STREAM>.>"), are moved to their
   * functions' own streams, then that stream is removed. Answers how many.
   */
  async moveFromSharedStream(limitsOf: (ref: FunctionRef) => QueueLimits): Promise<number> {
    const { jsm } = await this.connection.handles(30_000);
    try {
      await jsm.streams.info(this.prefix);
    } catch (error) {
      if (isStreamMissing(error)) return 0;
      throw unavailable(error);
    }
    let moved = 0;
    for (;;) {
      const message = await jsm.streams.getMessage(this.prefix, { seq: 1, next_by_subj: `${this.prefix}.>` } as unknown as { seq: number }).catch(() => null);
      if (!message) break;
      const call = decodeCall(message.header.get(CALL_HEADER), message.data);
      await this.enqueue(call, `moved-${this.prefix}-${message.seq}`, limitsOf(call.ref));
      await jsm.streams.deleteMessage(this.prefix, message.seq, false).catch(() => false);
      moved++;
    }
    await jsm.streams.delete(this.prefix).catch(() => false);
    if (moved > 0) this.log.info({ moved }, 'moved the calls of the shared queue of an earlier version to their functions\' streams');
    return moved;
  }
}

/** The function whose calls a stream keeps ("<prefix>_<namespace>_<name>"; a namespace holds no "_"). */
export function refOfStream(stream: string, start: string): FunctionRef | undefined {
  if (!stream.startsWith(start)) return undefined;
  const rest = stream.slice(start.length);
  const split = rest.indexOf('_');
  if (split <= 0 || split === rest.length - 1) return undefined;
  return { namespace: tokenToName(rest.slice(0, split)), name: tokenToName(rest.slice(split + 1)) };
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

/** An accept over this long is logged with where its time went. */
const SLOW_ACCEPT_MS = 1_000;

/** The time an accept spent in each of its steps, logged when it was slow. */
class Phases {
  private readonly started = performance.now();
  private last = this.started;
  private readonly spent: Record<string, number> = {};

  end(phase: string): void {
    const now = performance.now();
    this.spent[phase] = (this.spent[phase] ?? 0) + Math.round(now - this.last);
    this.last = now;
  }

  report(log: Logger, ref: FunctionRef, error?: unknown): void {
    const ms = Math.round(performance.now() - this.started);
    if (ms < SLOW_ACCEPT_MS) return;
    log.warn({ function: ref.name, namespace: ref.namespace, ms, phases: this.spent, ...(error ? { err: error } : {}) }, `an asynchronous call took ${ms} ms to be ${error ? 'refused' : 'accepted'}`);
  }
}
