// At-most-once topics (core NATS): one subscription per subscribed subject,
// in the queue group every connector replica joins, so each message reaches
// one replica, which invokes every function subscribed to that subject with
// it. A message published while no connector listens, or one a connector
// had in hand when it died, is gone: that is what at-most-once means. When
// the message has a reply subject (a request), each function's answer is
// published there (the requester takes the first).
import { keyOf, type FunctionRef } from '../../core/functions/types.js';
import type { EventMessage } from '../../queue/events.js';
import { attempt, eventHeaders, type Attempt } from '../../triggers/delivery.js';
import { Gate } from '../../triggers/gate.js';
import { inflightLimit, type ConnectorDeps, type RunRecorder } from './deps.js';

/** The queue group of every connector replica. */
export const QUEUE_GROUP = 'faas-connector';
/** At-most-once messages waiting for a function that has its limit in flight, at most; beyond, a message is dropped (and counted). */
export const MAX_WAITING = 1_000;

interface Subscribed {
  unsubscribe: () => void;
  refs: FunctionRef[];
}

export class CoreSubscriptions {
  private readonly subscribed = new Map<string, Subscribed>();
  private readonly gates = new Map<string, Gate>();

  constructor(
    private readonly deps: ConnectorDeps,
    private readonly runs: RunRecorder,
  ) {}

  get subjects(): string[] {
    return [...this.subscribed.keys()];
  }

  /** Invocations in flight or waiting, per function. */
  busy(): Map<string, number> {
    return new Map([...this.gates].map(([key, gate]) => [key, gate.busy]));
  }

  /** Brings the subscriptions to `wanted` (subject -> functions); subscribes what is missing. */
  async apply(wanted: Map<string, FunctionRef[]>): Promise<void> {
    for (const [subject, current] of this.subscribed) {
      if (!wanted.has(subject)) {
        current.unsubscribe();
        this.subscribed.delete(subject);
        this.deps.log.info({ subject }, 'unsubscribed (at-most-once)');
      }
    }
    for (const [subject, refs] of wanted) {
      const current = this.subscribed.get(subject);
      if (current) {
        current.refs = refs; // the callback reads the list anew for each message
        continue;
      }
      const entry: Subscribed = { refs, unsubscribe: () => undefined };
      entry.unsubscribe = await this.deps.events.subscribe(
        subject,
        QUEUE_GROUP,
        (message) => this.received(subject, entry, message),
        (error) => this.deps.log.warn({ err: error, subject }, 'subscription failed'),
      );
      this.subscribed.set(subject, entry);
      this.deps.log.info({ subject, functions: refs.map((r) => this.deps.nameOf(r)) }, 'subscribed (at-most-once)');
    }
  }

  close(): void {
    for (const { unsubscribe } of this.subscribed.values()) unsubscribe();
    this.subscribed.clear();
  }

  private gate(ref: FunctionRef): Gate {
    const key = keyOf(ref);
    let gate = this.gates.get(key);
    const limit = inflightLimit(this.deps, ref);
    if (!gate) {
      gate = new Gate(limit, MAX_WAITING);
      this.gates.set(key, gate);
    }
    gate.limit = limit;
    return gate;
  }

  private received(pattern: string, entry: Subscribed, message: EventMessage): void {
    const { metrics, runner } = this.deps;
    metrics.received.inc({ subject: pattern, delivery: 'at-most-once' });
    const publishedAt = Number(message.headers['X-Published-At']?.[0]);
    for (const ref of entry.refs) {
      const name = this.deps.nameOf(ref);
      const admitted = this.gate(ref).run(async () => {
        const at = Date.now();
        if (Number.isFinite(publishedAt) && publishedAt > 0) metrics.delay.observe({ delivery: 'at-most-once' }, Math.max(0, at - publishedAt) / 1000);
        const { headers, callId } = eventHeaders(message.headers, message.subject);
        const result = await attempt(runner, { ref, method: 'POST', path: '/', headers, body: message.data, callId, source: 'topic' });
        const success = result.status >= 200 && result.status < 300;
        metrics.invocations.inc({ function_name: name, trigger: 'topic', outcome: success ? 'success' : 'failure' });
        this.runs.record(ref, {
          at,
          trigger: 'topic',
          subject: message.subject,
          delivery: 'at-most-once',
          status: result.status,
          outcome: success ? 'success' : 'failure',
          durationMs: result.durationMs,
          attempt: 1,
          callId,
          ...(success ? {} : { reason: result.reason }),
        });
        if (message.reply) this.reply(message.reply, name, callId, result);
      });
      if (!admitted) {
        metrics.invocations.inc({ function_name: name, trigger: 'topic', outcome: 'dropped' });
        this.deps.log.warn({ function: name, subject: message.subject }, 'at-most-once message dropped: the function has too many waiting');
      }
    }
  }

  private reply(to: string, name: string, callId: string, result: Attempt): void {
    const contentType = result.sink?.headers['content-type'];
    const headers = {
      'X-Function-Name': [name],
      'X-Function-Status': [String(result.status)],
      'X-Call-Id': [callId],
      'X-Duration-Seconds': [(result.durationMs / 1000).toFixed(6)],
      'Content-Type': [result.sink?.status ? String(Array.isArray(contentType) ? contentType[0] : (contentType ?? 'application/octet-stream')) : 'text/plain; charset=utf-8'],
    };
    const body = result.sink?.status ? result.sink.body : Buffer.from(result.reason);
    this.deps.events.reply(to, body, headers).catch((error: unknown) => this.deps.log.warn({ err: error, function: name }, 'answer not published to the reply subject'));
  }
}
