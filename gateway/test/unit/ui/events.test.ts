// The function page's events card: its words and its queue-depth points (pure parts).
import { describe, expect, it } from 'vitest';
import { describePublish, describeQueue, describeScaling, describeTriggers, queuePoints, runRow } from '../../../ui/js/events.js';

const base = {
  name: 'f', topics: [] as string[], delivery: 'at-most-once' as const, schedule: null, problems: [],
  scaling: { type: 'rate' as const, target: 10 }, pending: null, rabbitmq: null, runs: [], queue: null, window: '5m', start: 0, end: 0, step: 5,
};

describe('the events card', () => {
  it('says what triggers the function and how it scales', () => {
    expect(describeTriggers(base)).toEqual(['No topic, schedule or queue: invoked over HTTP only (annotations topic, schedule, rabbitmq-topic).']);
    expect(describeTriggers({ ...base, topics: ['a', 'b.*'], delivery: 'durable' })).toEqual(['Durable subscription to a, b.*']);
    expect(describeTriggers({ ...base, schedule: { expression: '*/5 * * * *', next: ['2026-03-01T10:05:00.000Z'] } })).toEqual(['On the schedule */5 * * * * (UTC), next at 2026-03-01 10:05:00Z']);
    const rabbitmq = { broker: 'amqp://rabbitmq:5672/', depthSource: 'management' as const, output: 'downstream', problems: [], pending: 3, queues: [{ name: 'queue', ready: 2, unacked: 1, consumers: 1 }] };
    expect(describeTriggers({ ...base, rabbitmq })).toEqual(['RabbitMQ queue queue, answers published to downstream']);
    expect(describeQueue(rabbitmq.queues[0]!)).toBe('queue: 2 waiting, 1 being worked on, 1 consumer');
    expect(describeQueue({ name: 'gone', ready: null, unacked: null, consumers: null, problem: 'queue gone does not exist on the broker' })).toBe('gone: queue gone does not exist on the broker');
    expect(describeQueue({ name: 'p', ready: 4, unacked: null, consumers: 2 })).toBe('p: 4 waiting, 2 consumers');
    expect(describeScaling({ ...base, scaling: { type: 'queue', target: 1 } })).toMatch(/1 pending message per replica/);
    expect(describeScaling(base)).toMatch(/request rate/);
  });

  it('turns a run into the cells of its row', () => {
    const row = runRow({ at: 1_000, trigger: 'topic', subject: 'orders', delivery: 'durable', status: 503, outcome: 'retry', durationMs: 12, attempt: 2, callId: 'c', reason: 'busy' }, 31_000);
    expect(row).toMatchObject({ ago: '30 s ago', trigger: 'durable topic', status: '503', outcome: 'will retry', tone: 'warn', duration: '12 ms', attempt: '2', reason: 'busy' });
    expect(runRow({ at: 0, trigger: 'rabbitmq', subject: 'queue', delivery: 'rabbitmq', status: 200, outcome: 'success', durationMs: 1000, attempt: 1, callId: 'c', published: 'downstream' }, 1_000)).toMatchObject({ trigger: 'RabbitMQ → downstream', subject: 'queue', tone: 'ok' });
    expect(runRow({ at: 0, trigger: 'schedule', subject: '* * * * *', delivery: 'schedule', status: 0, outcome: 'dead_letter', durationMs: 1, attempt: 5, callId: 'c' }, 7_200_000)).toMatchObject({ ago: '2 h ago', trigger: 'schedule', status: 'no answer', tone: 'bad' });
  });

  it('joins the queue history with the live polls after it', () => {
    const history = { ...base, end: 100, step: 5, queue: [[90, 4], [95, 8], [100, 2]] as Array<[number, number]> };
    const points = queuePoints({ history, receivedAt: 100_000, live: [{ t: 99_000, pending: 7 }, { t: 102_000, pending: 0 }], windowMs: 60_000, now: 103_000 });
    expect(points.map((p) => [p.t, p.v])).toEqual([[90_000, 4], [95_000, 8], [100_000, 2], [102_000, 0]]);
    expect(queuePoints({ history: null, receivedAt: 0, live: [{ t: 1_000, pending: 3 }], windowMs: 60_000, now: 2_000 }).map((p) => p.v)).toEqual([3]);
  });

  it('says what a publish did', () => {
    expect(describePublish({ status: 202, json: { delivery: 'durable', subscribers: 1 }, text: '' })).toBe('202: published (durable) to 1 subscribed function');
    expect(describePublish({ status: 400, json: null, text: 'invalid subject' })).toBe('400: invalid subject');
    expect(describePublish({ status: 0, json: null, text: '' })).toBe('no answer: the gateway did not answer');
  });
});
