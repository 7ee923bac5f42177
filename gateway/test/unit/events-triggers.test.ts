// The event connector's pure logic: subjects and wildcards, what the
// annotations ask for, cron parsing, and the table of subscriptions with
// what changes between two of them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSchedule } from '../../src/core/events/schedule.js';
import { covers, subjectMatches, subjectProblem, withoutCovered } from '../../src/core/events/subjects.js';
import { changesBetween, durableConsumerName, EMPTY_TABLE, subscriptionTable, tickId, triggersOf } from '../../src/core/events/triggers.js';

const rules = { reserved: ['faas-async', 'faas-async-dead'] };
const ref = (name: string, namespace = 'openfaas-fn') => ({ name, namespace });
const names = { cronPrefix: 'faas-cron' };

describe('subjects', () => {
  it('accepts plain subjects and wildcards where NATS allows them', () => {
    for (const s of ['orders', 'orders.eu', 'orders.*', 'orders.>', 'a.*.c', 'a-b_c.D9']) expect(subjectProblem(s, 'subscribe', rules), s).toBeUndefined();
    expect(subjectProblem('orders.eu', 'publish', rules)).toBeUndefined();
  });

  it('refuses what would reach the stack\'s own subjects or is not a subject, saying why', () => {
    expect(subjectProblem('*.*.*', 'subscribe', rules)).toMatch(/starts with a wildcard/);
    expect(subjectProblem('>', 'subscribe', rules)).toMatch(/starts with a wildcard/);
    expect(subjectProblem('faas-async.>', 'subscribe', rules)).toMatch(/stack's own/);
    expect(subjectProblem('faas-cron.x', 'publish', rules)).toMatch(/stack's own/);
    expect(subjectProblem('$JS.API.STREAM.DELETE.x', 'publish', rules)).toMatch(/stack's own/);
    expect(subjectProblem('_INBOX.x', 'subscribe', rules)).toMatch(/stack's own/);
    expect(subjectProblem('a..b', 'subscribe', rules)).toMatch(/empty token/);
    expect(subjectProblem('a.b.', 'subscribe', rules)).toMatch(/empty token/);
    expect(subjectProblem('a b', 'subscribe', rules)).toMatch(/whitespace/);
    expect(subjectProblem('a.>.b', 'subscribe', rules)).toMatch(/last token/);
    expect(subjectProblem('a.b*', 'subscribe', rules)).toMatch(/whole token/);
    expect(subjectProblem('a.*', 'publish', rules)).toMatch(/without wildcards/);
    expect(subjectProblem('cron-function', 'publish', rules)).toMatch(/schedule trigger/);
    expect(subjectProblem('x'.repeat(201), 'publish', rules)).toMatch(/longer than/);
  });

  it('matches and covers with NATS wildcard semantics', () => {
    expect(subjectMatches('orders.*', 'orders.eu')).toBe(true);
    expect(subjectMatches('orders.*', 'orders.eu.x')).toBe(false);
    expect(subjectMatches('orders.>', 'orders.eu.x')).toBe(true);
    expect(subjectMatches('orders.>', 'orders')).toBe(false);
    expect(subjectMatches('orders', 'orders')).toBe(true);
    expect(covers('a.>', 'a.*')).toBe(true);
    expect(covers('a.*', 'a.>')).toBe(false);
    expect(covers('a.*.c', 'a.b.c')).toBe(true);
    expect(covers('a.b.c', 'a.*.c')).toBe(false);
  });

  it('keeps only the patterns no other one covers', () => {
    expect(withoutCovered(['orders.eu', 'orders.*', 'invoices', 'orders.*', 'a.>', 'a.b.*'])).toEqual(['orders.*', 'invoices', 'a.>']);
    expect(withoutCovered(['x', 'x'])).toEqual(['x']);
  });

  it('a covered pattern matches only what its cover matches (property)', () => {
    const tokenOf = fc.constantFrom('a', 'b', '*');
    const pattern = fc.tuple(fc.array(tokenOf, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([t, rest]) => ['n', ...t, ...(rest ? ['>'] : [])].join('.'));
    const subject = fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 5 }).map((t) => ['n', ...t].join('.'));
    fc.assert(
      fc.property(pattern, pattern, subject, (outer, inner, s) => {
        if (covers(outer, inner) && subjectMatches(inner, s)) expect(subjectMatches(outer, s)).toBe(true);
      }),
    );
  });
});

describe('schedules', () => {
  const ticks = (expression: string, from: string, n: number) => {
    const parsed = parseSchedule(expression);
    if (!parsed.ok) throw new Error(parsed.message);
    const out: string[] = [];
    let t = Date.parse(from);
    for (let i = 0; i < n; i++) {
      t = parsed.schedule.next(t)!;
      out.push(new Date(t).toISOString());
    }
    return out;
  };

  it('reads 5-field expressions as the OpenFaaS cron connector does (minutes, UTC)', () => {
    expect(ticks('*/5 * * * *', '2026-03-01T10:02:30Z', 3)).toEqual(['2026-03-01T10:05:00.000Z', '2026-03-01T10:10:00.000Z', '2026-03-01T10:15:00.000Z']);
    expect(ticks('0 9 * * 1', '2026-03-01T00:00:00Z', 2)).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-09T09:00:00.000Z']);
  });

  it('reads 6-field expressions with a leading seconds field', () => {
    expect(ticks('*/2 * * * * *', '2026-03-01T10:00:00.500Z', 3)).toEqual(['2026-03-01T10:00:02.000Z', '2026-03-01T10:00:04.000Z', '2026-03-01T10:00:06.000Z']);
    expect(ticks('30 0 * * * *', '2026-03-01T10:00:00Z', 2)).toEqual(['2026-03-01T10:00:30.000Z', '2026-03-01T11:00:30.000Z']);
  });

  it('gives the same ticks whatever moment it is asked from (so replicas agree on them)', () => {
    const parsed = parseSchedule('*/2 * * * * *');
    if (!parsed.ok) throw new Error(parsed.message);
    const base = Date.parse('2026-03-01T10:00:00Z');
    for (const offset of [0, 1, 999, 1000, 1999]) expect(parsed.schedule.next(base + offset)).toBe(base + 2000);
  });

  it('refuses what is not a 5- or 6-field cron expression, naming the problem', () => {
    expect(parseSchedule('61 * * * *')).toMatchObject({ ok: false, message: expect.stringMatching(/minute/) });
    expect(parseSchedule('* * * *')).toMatchObject({ ok: false, message: expect.stringMatching(/5 fields/) });
    expect(parseSchedule('* * * * * * *')).toMatchObject({ ok: false, message: expect.stringMatching(/5 fields/) });
    expect(parseSchedule('@hourly')).toMatchObject({ ok: false });
    expect(parseSchedule('')).toMatchObject({ ok: false });
    expect(parseSchedule('0 0 31 2 *')).toMatchObject({ ok: false, message: expect.stringMatching(/never runs/) });
  });
});

describe('what the annotations ask', () => {
  it('reads topics, delivery and a schedule, and says what it could not use', () => {
    expect(triggersOf(ref('a'), { topic: ' orders , orders.eu,invoices ' }, rules)).toMatchObject({ topics: ['orders', 'orders.eu', 'invoices'], delivery: 'at-most-once', problems: [] });
    expect(triggersOf(ref('a'), { topic: 'orders.*,orders.eu', 'topic-delivery': 'Durable' }, rules)).toMatchObject({ topics: ['orders.*'], delivery: 'durable' });
    const cron = triggersOf(ref('c'), { topic: 'cron-function', schedule: '*/2 * * * * *' }, rules);
    expect(cron.topics).toEqual([]);
    expect(cron.schedule?.expression).toBe('*/2 * * * * *');
    const bad = triggersOf(ref('b'), { topic: 'ok,faas-async.>,cron-function', schedule: 'nope', 'topic-delivery': 'maybe' }, rules);
    expect(bad.topics).toEqual(['ok']);
    expect(bad.schedule).toBeUndefined();
    expect(bad.delivery).toBe('at-most-once');
    expect(bad.problems).toHaveLength(3);
    expect(triggersOf(ref('d'), { schedule: '* * * * *' }, rules).problems[0]).toMatch(/ignored without cron-function/);
    expect(triggersOf(ref('e'), { topic: 'cron-function' }, rules).problems[0]).toMatch(/needs the annotation schedule/);
    expect(triggersOf(ref('f'), {}, rules)).toMatchObject({ topics: [], problems: [] });
  });
});

describe('the subscription table', () => {
  const table = (annotations: Array<[string, Record<string, string>]>) =>
    subscriptionTable(annotations.map(([name, a]) => triggersOf(ref(name), a, rules)), names);

  it('groups at-most-once functions by subject, and gives each durable subscription and schedule a consumer', () => {
    const t = table([
      ['b', { topic: 'orders' }],
      ['a', { topic: 'orders,invoices' }],
      ['d', { topic: 'orders.*,payments', 'topic-delivery': 'durable' }],
      ['e', { topic: 'orders.eu', 'topic-delivery': 'durable' }],
      ['c', { topic: 'cron-function', schedule: '* * * * *' }],
    ]);
    expect([...t.core.entries()].map(([s, refs]) => [s, refs.map((r) => r.name)])).toEqual([
      ['orders', ['a', 'b']],
      ['invoices', ['a']],
    ]);
    expect([...t.durable.values()].map((d) => `${d.ref.name}:${d.subject}`)).toEqual(['d:orders.*', 'd:payments', 'e:orders.eu']);
    // The stream takes orders.* (which holds orders.eu) and payments: no two subjects overlap.
    expect(t.streamSubjects).toEqual(['orders.*', 'payments']);
    expect([...t.scheduled.values()]).toMatchObject([{ ref: ref('c'), consumer: 'cron_openfaas-fn_c', subject: 'faas-cron.openfaas-fn.c' }]);
  });

  it('names one consumer per function and subject, never one for two', () => {
    const a = durableConsumerName(ref('f'), 'orders.*');
    expect(a).toMatch(/^ev_openfaas-fn_f_[0-9a-f]{8}$/);
    expect(durableConsumerName(ref('f'), 'orders.>')).not.toBe(a);
    expect(durableConsumerName(ref('f', 'team-a'), 'orders.*')).not.toBe(a);
    expect(durableConsumerName(ref('f.x'), 'orders.*')).toMatch(/^ev_openfaas-fn_x[0-9a-f]+_[0-9a-f]{8}$/);
    expect(tickId(ref('c'), 1_000)).toBe(tickId(ref('c'), 1_000));
    expect(tickId(ref('c'), 1_000)).not.toBe(tickId(ref('c'), 2_000));
  });

  it('says what a deploy, an update and a delete change', () => {
    const before = table([
      ['a', { topic: 'orders' }],
      ['b', { topic: 'orders', 'topic-delivery': 'durable' }],
      ['c', { topic: 'cron-function', schedule: '* * * * *' }],
    ]);
    const after = table([
      ['a', { topic: 'orders,new' }],
      ['x', { topic: 'orders' }],
      ['c', { topic: 'cron-function', schedule: '*/2 * * * *' }],
    ]);
    const changes = changesBetween(before, after);
    expect(changes.coreAdded).toEqual(['new']);
    expect(changes.coreChanged).toEqual(['orders']);
    expect(changes.coreRemoved).toEqual([]);
    expect(changes.durableRemoved.map((d) => d.ref.name)).toEqual(['b']);
    expect(changes.durableAdded).toEqual([]);
    expect(changes.scheduledAdded.map((s) => s.schedule.expression)).toEqual(['*/2 * * * *']);
    expect(changes.scheduledRemoved.map((s) => s.schedule.expression)).toEqual(['* * * * *']);
    expect(changesBetween(after, after)).toEqual({ coreAdded: [], coreRemoved: [], coreChanged: [], durableAdded: [], durableRemoved: [], scheduledAdded: [], scheduledRemoved: [] });
    const gone = changesBetween(after, EMPTY_TABLE);
    expect(gone.coreRemoved.sort()).toEqual(['new', 'orders']);
    expect(gone.scheduledRemoved).toHaveLength(1);
  });
});

describe('the subjects of the events stream', () => {
  it('never holds two that overlap: they give way to one that covers both', async () => {
    const { overlaps, streamSubjectsOf } = await import('../../src/core/events/subjects.js');
    expect(overlaps('a.*.c', 'a.b.*')).toBe(true);
    expect(overlaps('a.*', 'a.b.c')).toBe(false);
    expect(overlaps('a.>', 'a.b.c')).toBe(true);
    expect(overlaps('a.b', 'a.c')).toBe(false);
    expect(streamSubjectsOf(['a.*.c', 'a.b.*', 'x'])).toEqual(['a.*.*', 'x']);
    expect(streamSubjectsOf(['a.b', 'a.b.>'])).toEqual(['a.b', 'a.b.>']);
    expect(streamSubjectsOf(['a.*', 'a.b.>'])).toEqual(['a.*', 'a.b.>']);
    expect(streamSubjectsOf(['a.*.c', 'a.b.>'])).toEqual(['a.*.>']);
  });

  it('covers every pattern and holds no overlap (property)', async () => {
    const { covers, overlaps, streamSubjectsOf } = await import('../../src/core/events/subjects.js');
    const tokenOf = fc.constantFrom('a', 'b', '*');
    const pattern = fc.tuple(fc.array(tokenOf, { minLength: 1, maxLength: 3 }), fc.boolean()).map(([t, rest]) => ['n', ...t, ...(rest ? ['>'] : [])].join('.'));
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 6 }), (patterns) => {
        const subjects = streamSubjectsOf(patterns);
        for (const p of patterns) expect(subjects.some((s) => covers(s, p))).toBe(true);
        for (let i = 0; i < subjects.length; i++) for (let j = i + 1; j < subjects.length; j++) expect(overlaps(subjects[i]!, subjects[j]!)).toBe(false);
      }),
    );
  });
});
