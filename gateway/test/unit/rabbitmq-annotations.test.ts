// The RabbitMQ annotations (core/events/rabbitmq.ts) and what a RabbitMQ
// trigger does with each answer (triggers/retry.ts, ACK_ON_2XX). Pure.
import { describe, expect, it } from 'vitest';
import { parseOutput, rabbitNameProblem, rabbitTable, rabbitTriggersOf, sharedQueueNotes } from '../../src/core/events/rabbitmq.js';
import { ACK_ON_2XX, decide } from '../../src/triggers/retry.js';

const ref = { name: 'worker', namespace: 'openfaas-fn' };
const policy = { maxAttempts: 3, initialDelayMs: 1000, maxDelayMs: 60_000 };

describe('rabbitmq-topic', () => {
  it('lists the queues, trimmed and without repeats', () => {
    expect(rabbitTriggersOf(ref, { 'rabbitmq-topic': ' queue , orders.eu,queue' })).toEqual({ ref, queues: ['queue', 'orders.eu'], problems: [] });
    expect(rabbitTriggersOf(ref, {})).toEqual({ ref, queues: [], problems: [] });
  });

  it('leaves out a name RabbitMQ clients cannot use, or the broker\'s and the stack\'s own, saying why', () => {
    const t = rabbitTriggersOf(ref, { 'rabbitmq-topic': 'good,bad name,amq.gen-1,faas.dead-letter,ünï' });
    expect(t.queues).toEqual(['good']);
    expect(t.problems).toHaveLength(4);
    expect(t.problems[0]).toMatch(/rabbitmq-topic: queue "bad name": a name is letters/);
    expect(t.problems[1]).toMatch(/amq\. are RabbitMQ's own/);
    expect(t.problems[2]).toMatch(/faas\. are the stack's own/);
    expect(rabbitNameProblem('x'.repeat(256), 'queue')).toMatch(/longer than 255 bytes/);
    expect(rabbitNameProblem('', 'queue')).toBe('an empty queue name');
  });

  it('does not clash with the NATS topic annotation', () => {
    expect(rabbitTriggersOf(ref, { topic: 'orders', 'rabbitmq-topic': 'queue' }).queues).toEqual(['queue']);
  });
});

describe('rabbitmq-output', () => {
  it('names a queue (the default exchange) or an exchange and a routing key', () => {
    expect(parseOutput('downstream')).toEqual({ ok: true, output: { exchange: '', routingKey: 'downstream', text: 'downstream' } });
    expect(parseOutput('results/orders.done')).toEqual({ ok: true, output: { exchange: 'results', routingKey: 'orders.done', text: 'results/orders.done' } });
    expect(parseOutput('amq.topic/a.b/c')).toEqual({ ok: true, output: { exchange: 'amq.topic', routingKey: 'a.b/c', text: 'amq.topic/a.b/c' } });
    expect(parseOutput('fanout/')).toMatchObject({ ok: true, output: { exchange: 'fanout', routingKey: '' } });
  });

  it('refuses what cannot be published to, and an output that would feed the function itself', () => {
    expect(parseOutput('bad queue')).toMatchObject({ ok: false });
    expect(parseOutput('ex/ke\ny')).toEqual({ ok: false, problem: 'the routing key holds a control character' });
    expect(rabbitTriggersOf(ref, { 'rabbitmq-topic': 'queue', 'rabbitmq-output': 'queue' }).problems[0]).toMatch(/also the function's input queue/);
    expect(rabbitTriggersOf(ref, { 'rabbitmq-output': 'downstream' }).problems[0]).toMatch(/ignored without a queue/);
    expect(rabbitTriggersOf(ref, { 'rabbitmq-topic': 'queue', 'rabbitmq-output': 'downstream' }).output).toEqual({ exchange: '', routingKey: 'downstream', text: 'downstream' });
  });
});

describe('the table of subscriptions', () => {
  it('has one consumer per function and queue, and tells functions that share a queue', () => {
    const a = rabbitTriggersOf(ref, { 'rabbitmq-topic': 'queue,jobs' });
    const b = rabbitTriggersOf({ name: 'other', namespace: 'team' }, { 'rabbitmq-topic': 'jobs' });
    const table = rabbitTable([a, b]);
    expect([...table.subscriptions.keys()].sort()).toEqual(['openfaas-fn/worker/jobs', 'openfaas-fn/worker/queue', 'team/other/jobs']);
    expect(sharedQueueNotes(a, table, (r) => r.name)).toEqual([expect.stringMatching(/^queue jobs is also subscribed by other: each message goes to one of them/)]);
    expect(sharedQueueNotes(rabbitTriggersOf(ref, { 'rabbitmq-topic': 'queue' }), rabbitTable([rabbitTriggersOf(ref, { 'rabbitmq-topic': 'queue' })]), (r) => r.name)).toEqual([]);
  });
});

describe('acknowledged on 2xx only', () => {
  it('retries 429, every 5xx and no answer, then makes a dead letter; any other answer is a dead letter at once', () => {
    const opts = { statuses: ACK_ON_2XX, random: () => 0.5 };
    expect(decide(1, 200, '', policy, opts)).toEqual({ kind: 'done', status: 200 });
    expect(decide(1, 204, '', policy, opts)).toEqual({ kind: 'done', status: 204 });
    for (const status of [0, 429, 500, 502, 503, 504]) expect(decide(1, status, 'x', policy, opts).kind).toBe('retry');
    expect(decide(3, 500, 'the function answered 500', policy, opts)).toEqual({ kind: 'dead', status: 500, reason: 'the function answered 500 (after 3 attempts)' });
    for (const status of [301, 400, 404, 413]) expect(decide(1, status, 'x', policy, opts).kind).toBe('dead');
    // The other triggers keep their rules: a 500 is the outcome there.
    expect(decide(1, 500, 'x', policy).kind).toBe('done');
  });
});
