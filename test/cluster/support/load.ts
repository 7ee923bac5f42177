// A bounded, paced load on one function through the gateway that keeps every
// request's start, end and outcome, so a test can tell which requests were in
// flight at a given moment and when failures began and stopped.
import { gatewayUrl } from '../../e2e/support/gateway.js';

export interface RequestRecord {
  /** ms since the load's origin */
  start: number;
  end: number;
  /** 'ok', or the status / error that made it a failure */
  outcome: string;
}

export interface TimedLoad {
  /** performance.now() at the load's start: every record is relative to it. */
  origin: number;
  records: RequestRecord[];
  /** Resolves when every request has ended. */
  done: Promise<RequestRecord[]>;
  /** Stops sending (requests in flight still end). */
  stop(): void;
}

/**
 * Invokes `name` at `rate` requests/s (open loop: a slow answer does not slow
 * the load) for at most `seconds`, never more than `maxInFlight` at once, each
 * with a `timeoutMs` deadline. The function must echo the body (echoit).
 */
export function timedLoad(name: string, rate: number, seconds: number, options: { timeoutMs?: number; maxInFlight?: number } = {}): TimedLoad {
  const { timeoutMs = 10_000, maxInFlight = 64 } = options;
  const url = gatewayUrl(`/function/${name}`);
  const origin = performance.now();
  const records: RequestRecord[] = [];
  const total = Math.round(rate * seconds);
  let stopped = false;
  const inFlight = new Set<Promise<void>>();
  const now = (): number => performance.now() - origin;

  const one = async (i: number): Promise<void> => {
    const body = `cluster load ${i}`;
    const record: RequestRecord = { start: now(), end: 0, outcome: 'ok' };
    records.push(record);
    try {
      const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (res.status !== 200) record.outcome = `${res.status} ${text.slice(0, 60)}`;
      else if (text !== body) record.outcome = '200 wrong body';
    } catch (error) {
      const e = error as Error;
      record.outcome = e.name === 'TimeoutError' ? 'timeout' : `${e.name}: ${(e.cause as Error | undefined)?.message ?? e.message}`;
    }
    record.end = now();
  };

  const done = (async () => {
    for (let i = 0; i < total && !stopped; i++) {
      const wait = (i * 1000) / rate - now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (stopped) break;
      while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
      const request = one(i).finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
    await Promise.all(inFlight);
    return records;
  })();
  return { origin, records, done, stop: () => void (stopped = true) };
}

export interface LoadSummary {
  sent: number;
  ok: number;
  failed: number;
  /** outcome -> count, failures only */
  failures: Record<string, number>;
  /** slowest answer of any kind, ms */
  slowestMs: number;
  /** answers (ok or not) that took longer than 1 s */
  slow: number;
  /** when those started, s since origin (a span after an event, or spread over the run: the machine) */
  slowSpan?: [number, number];
  /** start of the first and last failed request, ms since origin */
  firstFailure?: number;
  lastFailure?: number;
}

export function summarize(records: RequestRecord[]): LoadSummary {
  const failures: Record<string, number> = {};
  let ok = 0;
  let slowestMs = 0;
  let slow = 0;
  let firstFailure: number | undefined;
  let lastFailure: number | undefined;
  let slowFrom: number | undefined;
  let slowTo: number | undefined;
  for (const r of records) {
    const took = r.end - r.start;
    slowestMs = Math.max(slowestMs, took);
    if (took > 1000) {
      slow++;
      slowFrom = Math.min(slowFrom ?? r.start, r.start);
      slowTo = Math.max(slowTo ?? r.start, r.start);
    }
    if (r.outcome === 'ok') ok++;
    else {
      failures[r.outcome] = (failures[r.outcome] ?? 0) + 1;
      firstFailure = Math.min(firstFailure ?? r.start, r.start);
      lastFailure = Math.max(lastFailure ?? r.start, r.start);
    }
  }
  return { sent: records.length, ok, failed: records.length - ok, failures, slowestMs, slow, ...(slowFrom !== undefined ? { slowSpan: [slowFrom / 1000, slowTo! / 1000] as [number, number] } : {}), firstFailure, lastFailure };
}

/** Requests in flight at moment `t` (started before, ended after). */
export function inFlightAt(records: RequestRecord[], t: number): number {
  return records.filter((r) => r.start <= t && r.end > t).length;
}

export const seconds = (ms: number | undefined): string => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
