// At-most-once topics (core NATS): one subscription per subscribed subject,
// in the queue group every connector replica joins, so each message reaches
// one replica, which invokes every function subscribed to that subject with
// it. A message published while no connector listens, or one a connector
// had in hand when it died, is gone: that is what at-most-once means. When
// the message has a reply subject (a request), each function's answer is
// published there (the requester takes the first).
import { headers as natsHeaders, type Msg, type Subscription } from '@nats-io/transport-node';
import { keyOf, type FunctionRef } from '../gateway/provider/types.js';
import { requestHeaders } from '../../triggers/delivery.js';
import { Gate, inflightLimit, invoke, nameOf, type HandlerDeps, type RunRecorder } from '../../triggers/handler.js';

/** The queue group of every connector replica. */
export const QUEUE_GROUP = 'faas-connector';

interface Subscribed {
  subscription: Subscription;
  refs: FunctionRef[];
}

export class CoreSubscriptions {
  private readonly subscribed = new Map<string, Subscribed>();
  private readonly gates = new Map<string, Gate>();

  constructor(
    private readonly deps: HandlerDeps,
    private readonly runs: RunRecorder,
  ) {}

  get subjects(): string[] {
    return [...this.subscribed.keys()];
  }

  /** Brings the subscriptions to `wanted` (subject -> functions); subscribes what is missing. */
  async apply(wanted: Map<string, FunctionRef[]>): Promise<void> {
    for (const [subject, current] of this.subscribed) {
      if (!wanted.has(subject)) {
        current.subscription.unsubscribe();
        this.subscribed.delete(subject);
        this.deps.log.info({ subject }, 'unsubscribed (at-most-once)');
      }
    }
    const missing = [...wanted].filter(([subject]) => !this.subscribed.has(subject));
    for (const [subject, refs] of wanted) {
      const current = this.subscribed.get(subject);
      if (current) current.refs = refs; // the callback reads the list anew for each message
    }
    if (missing.length === 0) return;
    const { nc } = await this.deps.queue.handles();
    for (const [subject, refs] of missing) {
      const entry: Subscribed = { refs, subscription: undefined as unknown as Subscription };
      entry.subscription = nc.subscribe(subject, { queue: QUEUE_GROUP, callback: (error, msg) => (error ? this.deps.log.warn({ err: error, subject }, 'subscription failed') : this.received(subject, entry, msg)) });
      this.subscribed.set(subject, entry);
      this.deps.log.info({ subject, functions: refs.map((r) => nameOf(this.deps, r)) }, 'subscribed (at-most-once)');
    }
  }

  close(): void {
    for (const { subscription } of this.subscribed.values()) subscription.unsubscribe();
    this.subscribed.clear();
  }

  private gate(ref: FunctionRef): Gate {
    const key = keyOf(ref);
    let gate = this.gates.get(key);
    const limit = inflightLimit(this.deps, ref);
    if (!gate) {
      gate = new Gate(limit);
      this.gates.set(key, gate);
    }
    gate.limit = limit;
    return gate;
  }

  private received(pattern: string, entry: Subscribed, msg: Msg): void {
    const { metrics } = this.deps;
    metrics.received.inc({ subject: pattern, delivery: 'at-most-once' });
    const publishedAt = Number(msg.headers?.get('X-Published-At'));
    for (const ref of entry.refs) {
      const name = nameOf(this.deps, ref);
      const admitted = this.gate(ref).run(async () => {
        const at = Date.now();
        if (Number.isFinite(publishedAt) && publishedAt > 0) metrics.delay.observe({ delivery: 'at-most-once' }, Math.max(0, at - publishedAt) / 1000);
        const { headers, callId } = requestHeaders(msg.headers, msg.subject);
        const attempt = await invoke(this.deps, ref, { subject: msg.subject, data: msg.data, headers, callId });
        const success = attempt.status >= 200 && attempt.status < 300;
        metrics.invocations.inc({ function_name: name, trigger: 'topic', outcome: success ? 'success' : 'failure' });
        this.runs.record(ref, {
          at,
          trigger: 'topic',
          subject: msg.subject,
          delivery: 'at-most-once',
          status: attempt.status,
          outcome: success ? 'success' : 'failure',
          durationMs: attempt.durationMs,
          attempt: 1,
          callId,
          ...(success ? {} : { reason: attempt.reason }),
        });
        if (msg.reply) this.reply(msg.reply, name, callId, attempt);
      });
      if (!admitted) {
        metrics.invocations.inc({ function_name: name, trigger: 'topic', outcome: 'dropped' });
        this.deps.log.warn({ function: name, subject: msg.subject }, 'at-most-once message dropped: the function has too many waiting');
      }
    }
  }

  private reply(to: string, name: string, callId: string, attempt: Awaited<ReturnType<typeof invoke>>): void {
    const h = natsHeaders();
    h.set('X-Function-Name', name);
    h.set('X-Function-Status', String(attempt.status));
    h.set('X-Call-Id', callId);
    h.set('X-Duration-Seconds', (attempt.durationMs / 1000).toFixed(6));
    const contentType = attempt.sink?.headers['content-type'];
    if (attempt.sink?.status) h.set('Content-Type', String(Array.isArray(contentType) ? contentType[0] : contentType ?? 'application/octet-stream'));
    else h.set('Content-Type', 'text/plain; charset=utf-8');
    const body = attempt.sink?.status ? attempt.sink.body : Buffer.from(attempt.reason);
    this.deps.queue
      .handles()
      .then(({ nc }) => nc.publish(to, body, { headers: h }))
      .catch((error: unknown) => this.deps.log.warn({ err: error, function: name }, 'answer not published to the reply subject'));
  }
}
