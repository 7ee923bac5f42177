// Every program's calls in flight and waiting reach every gateway within a
// second over a real nats-server (faas-internal.load): the gateways sum the
// latest report of each sender, drop a sender that went quiet, and agree on
// which of them decides capacity scaling. The figures themselves: a
// function's demand is its calls in flight and waiting averaged over time.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { FunctionLoadReport } from '../../src/core/invocation/load.js';
import { FunctionLoad, LoadTable, takeLoadReport } from '../../src/core/invocation/load.js';
import { LoadBoard, LoadReporter, STALE_AFTER_MS } from '../../src/queue/load-reports.js';
import { natsForFile } from './support/nats-server.js';
import { until } from './support/until.js';

const log = pino({ level: 'silent' });
const nats = natsForFile(log);
const { connection } = nats;

const figures = (d: number, i = Math.round(d), w = 0, s = 1, a?: Record<string, number>): FunctionLoadReport => ({ d, i, w, s, ...(a ? { a } : {}) });

describe('load reports', () => {
  it('reach every gateway within a second, summed over every program, per function and per instance', async () => {
    const gatewayA = new LoadBoard(connection('gw-a'), 'gateway-aaaa', log);
    const gatewayB = new LoadBoard(connection('gw-b'), 'gateway-bbbb', log);
    await Promise.all([gatewayA.start(), gatewayB.start()]);
    nats.closeAfterAll(() => gatewayA.stop(), () => gatewayB.stop());
    const reporters = [
      new LoadReporter(connection('gw-a-r'), 'gateway-aaaa', 'gateway', () => ({ 'fn.ns': figures(4, 4, 0, 3, { '10.0.0.1:8080': 2, '10.0.0.2:8080': 2 }) }), log, (r) => gatewayA.accept(r)),
      new LoadReporter(connection('gw-b-r'), 'gateway-bbbb', 'gateway', () => ({ 'fn.ns': figures(2, 1, 1, 1, { '10.0.0.1:8080': 1 }) }), log, (r) => gatewayB.accept(r)),
      new LoadReporter(connection('worker'), 'queue-worker-1', 'queue-worker', () => ({ 'fn.ns': figures(6, 2, 4, 2), 'other.ns': figures(1) }), log),
    ];
    const started = Date.now();
    for (const r of reporters) {
      r.start();
      nats.closeAfterAll(() => r.stop());
    }
    for (const board of [gatewayA, gatewayB]) {
      const sum = await until('every report', () => {
        const s = board.sum('fn.ns');
        return s.demand === 12 && s;
      });
      expect(sum).toMatchObject({ demand: 12, inflight: 7, waiting: 5 });
      expect(Object.fromEntries(sum.byInstance)).toEqual({ '10.0.0.1:8080': 3, '10.0.0.2:8080': 2 });
      expect(board.sum('other.ns').demand).toBe(1);
      expect(board.lastBusy('fn.ns')).toBeGreaterThanOrEqual(started);
    }
    expect(Date.now() - started).toBeLessThan(1_500);
    // The gateway with the smallest id decides.
    expect(gatewayA.decides).toBe(true);
    expect(gatewayB.decides).toBe(false);

    // The worker and gateway A stop: their figures go once they are STALE_AFTER_MS old, and B decides.
    reporters[0]!.stop();
    reporters[2]!.stop();
    await until('the quiet senders dropped', () => gatewayB.sum('fn.ns').demand === 2, STALE_AFTER_MS + 2_000);
    expect(gatewayB.decides).toBe(true);
  });

  it('a board without NATS holds its own gateway’s figures and decides alone', () => {
    const board = new LoadBoard(undefined, 'gateway-x', log);
    expect(board.complete).toBe(true);
    board.accept({ sender: 'gateway-x', role: 'gateway', functions: { 'fn.ns': figures(3) } });
    expect(board.sum('fn.ns').demand).toBe(3);
    expect(board.decides).toBe(true);
  });
});

describe('a function’s load in one program', () => {
  it('is its calls in flight and waiting averaged over time: a call half the period long is a demand of 0.5', () => {
    const load = new FunctionLoad(0);
    load.enter(0);
    load.sent();
    load.leave(250, true);
    expect(load.takeAverage(500)).toBe(0.5);
    expect(load.takeStarted()).toBe(1);
    // Two waiting and one in flight for the whole next period.
    load.enter(500);
    load.enter(500);
    load.enter(500);
    load.sent();
    expect(load.takeAverage(1_000)).toBe(3);
    expect([load.inflight, load.waiting]).toEqual([1, 2]);
    // Given back after a refusal: waiting again, the demand unchanged.
    load.returned();
    expect([load.inflight, load.waiting]).toEqual([0, 3]);
  });

  it('reports only the functions that had something, with their calls per instance when they have a limit', () => {
    let now = 0;
    const loads = new LoadTable(() => now);
    loads.of('busy.ns').enter(0);
    loads.of('busy.ns').sent();
    loads.of('idle.ns');
    now = 500;
    const report = takeLoadReport(loads, (key) => (key === 'busy.ns' ? new Map([['10.0.0.1:8080', 1]]) : undefined));
    expect(report).toEqual({ 'busy.ns': { d: 1, i: 1, w: 0, s: 1, a: { '10.0.0.1:8080': 1 } } });
  });
});
