// Helpers of the autoscaling suites: a bounded, paced load on one function,
// a replica timeline, and the recorded AlertManager payloads renamed to the
// test stack's functions.
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';
import { gatewayUrl, systemFetch, waitFor } from './gateway.js';

export interface FunctionState {
  replicas: number;
  availableReplicas: number;
}

export async function functionState(name: string): Promise<FunctionState> {
  const res = await systemFetch(`/system/function/${name}`);
  if (res.status !== 200) throw new Error(`GET /system/function/${name} answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as FunctionState;
  return { replicas: body.replicas, availableReplicas: body.availableReplicas };
}

export async function scaleFunction(name: string, replicas: number): Promise<Response> {
  return systemFetch(`/system/scale-function/${name}`, { method: 'POST', body: JSON.stringify({ serviceName: name, replicas }) });
}

/** A recorded AlertManager payload with the recording stack's names (func_*) renamed to this stack's. */
export function alertFixture(name: string): string {
  const text = readFileSync(new URL(`../fixtures/alertmanager-${name}.json`, import.meta.url), 'utf8');
  return text.replaceAll('"func_', `"${inject('stackName')}_`);
}

export interface LoadResult {
  sent: number;
  ok: number;
  /** Status (or error name) -> count, for every answer that was not 2xx. */
  failures: Record<string, number>;
  seconds: number;
}

/**
 * Invokes a function at `rate` requests/s for `seconds` (open loop: a slow
 * answer does not slow the load), never more than `maxInFlight` at once.
 * Bounded in count (rate * seconds) and time; `stop` ends it early.
 */
export async function paceLoad(
  name: string,
  rate: number,
  seconds: number,
  options: { body?: string; maxInFlight?: number; stop?: AbortSignal } = {},
): Promise<LoadResult> {
  const { body = 'Hello, Function as a Service', maxInFlight = 64, stop } = options;
  const url = gatewayUrl(`/function/${name}`);
  const result: LoadResult = { sent: 0, ok: 0, failures: {}, seconds };
  const total = Math.round(rate * seconds);
  const started = performance.now();
  const inFlight = new Set<Promise<void>>();
  const fail = (key: string): void => {
    result.failures[key] = (result.failures[key] ?? 0) + 1;
  };
  for (let i = 0; i < total && !stop?.aborted; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    result.sent++;
    const request = fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(15_000) })
      .then(async (res) => {
        const text = await res.text();
        if (res.status >= 200 && res.status < 300 && text === body) result.ok++;
        else fail(res.status >= 200 && res.status < 300 ? `${res.status} wrong body` : `${res.status} ${text.slice(0, 80)}`);
      })
      .catch((error: Error) => fail(error.name === 'TimeoutError' ? 'timeout' : `${error.name}: ${(error.cause as Error | undefined)?.message ?? error.message}`))
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

export interface Sample extends FunctionState {
  /** Seconds since the timeline started. */
  t: number;
}

/** Polls a function's replicas every `everyMs` until stopped. */
export function watchReplicas(name: string, everyMs = 500): { samples: Sample[]; stop: () => Promise<void>; origin: number } {
  const samples: Sample[] = [];
  const origin = performance.now();
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const state = await functionState(name);
        samples.push({ t: (performance.now() - origin) / 1000, ...state });
      } catch {
        // a missed sample is only a gap in the timeline
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    samples,
    origin,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * Waits (90 s at most) until the latest sample of `watch` taken after
 * `sinceS` shows `name` back at 1 replica; answers the seconds from `sinceS`
 * to the first sample after it at 1.
 */
export async function secondsBackAtOne(watch: { samples: Sample[] }, name: string, sinceS: number): Promise<number> {
  await waitFor(`${name} back at 1 replica`, async () => {
    const last = watch.samples.at(-1);
    return last && last.t > sinceS && last.replicas === 1 ? last : undefined;
  }, 90_000, 500);
  return watch.samples.find((s) => s.t > sinceS && s.replicas === 1)!.t - sinceS;
}

/** The samples at which the desired replicas changed. */
export function changes(samples: Sample[]): Sample[] {
  return samples.filter((s, i) => i === 0 || s.replicas !== samples[i - 1]!.replicas);
}

/** Gateway log lines (or another of the stack's services') since `since` (docker service logs), for checking what it said. */
export async function gatewayLogs(since: Date, service = 'gateway'): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout, stderr } = await promisify(execFile)('docker', ['service', 'logs', '--raw', '--since', since.toISOString(), `${inject('stackName')}_${service}`], {
    maxBuffer: 20 * 1024 * 1024,
    // It can hang on the logs of a killed task.
    timeout: 30_000,
  });
  return stdout + stderr;
}
