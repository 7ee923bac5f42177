// The measurement of issue 25, shared by the e2e suite (one gateway) and the
// cluster suite (two): N clients each invoking a function, one call after
// another, for a bounded time (closed loop: what a Knative load test does),
// while the function's replicas are sampled; then the figures the issue
// names: failures, when 10 replicas were wanted and ready, p50 from the 10th
// second, when the function was back at its minimum.
import { functionState } from './scaling.js';

export interface Call {
  /** Seconds from the start of the load to the call's start. */
  at: number;
  ms: number;
  status: number;
  text: string;
}

export interface ReplicaSample {
  t: number;
  replicas: number;
  ready: number;
}

/** `clients` loops invoking `name` for `seconds` (each on bases[i % n]), one call after another. */
export async function closedLoop(bases: string[], name: string, clients: number, seconds: number, origin: number): Promise<Call[]> {
  const calls: Call[] = [];
  const end = origin + seconds * 1000;
  const client = async (id: number) => {
    const base = bases[id % bases.length]!;
    for (let n = 0; performance.now() < end; n++) {
      const started = performance.now();
      const body = `c${id}-${n}`;
      try {
        const res = await fetch(`${base}/function/${name}`, { method: 'POST', body, signal: AbortSignal.timeout(90_000) });
        const text = await res.text();
        calls.push({ at: (started - origin) / 1000, ms: performance.now() - started, status: res.status, text: res.status === 200 && text !== body ? `wrong body: ${text.slice(0, 60)}` : text.slice(0, 120) });
      } catch (error) {
        calls.push({ at: (started - origin) / 1000, ms: performance.now() - started, status: 0, text: String((error as Error).cause ?? error) });
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, id) => client(id)));
  return calls;
}

/** Samples the function's wanted and ready replicas every `everyMs` (from `origin`) until stopped. */
export function sampleReplicas(name: string, origin: number, everyMs = 250): { samples: ReplicaSample[]; stop: () => Promise<void> } {
  const samples: ReplicaSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const s = await functionState(name);
        samples.push({ t: (performance.now() - origin) / 1000, replicas: s.replicas, ready: s.availableReplicas });
      } catch {
        // a gap in the timeline
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

export interface Figures {
  calls: number;
  failed: number;
  failures: Record<string, number>;
  /** Seconds from the load's start to 10 replicas wanted, and ready (undefined: never). */
  tenWanted: number | undefined;
  tenReady: number | undefined;
  mostReplicas: number;
  /** Median and 90th percentile of the calls started from the 10th second on (seconds). */
  p50From10: number;
  p90From10: number;
  /** Seconds from the end of the load to the function back at `min` replicas. */
  backAtMin: number | undefined;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function figures(calls: Call[], samples: ReplicaSample[], loadSeconds: number, min: number): Figures {
  const failures: Record<string, number> = {};
  for (const c of calls) if (c.status !== 200 || c.text.startsWith('wrong body')) failures[`${c.status} ${c.text.slice(0, 60)}`] = (failures[`${c.status} ${c.text.slice(0, 60)}`] ?? 0) + 1;
  const late = calls.filter((c) => c.at >= 10).map((c) => c.ms / 1000).sort((a, b) => a - b);
  const afterLoad = samples.filter((s) => s.t >= loadSeconds);
  return {
    calls: calls.length,
    failed: Object.values(failures).reduce((a, b) => a + b, 0),
    failures,
    tenWanted: samples.find((s) => s.replicas >= 10)?.t,
    tenReady: samples.find((s) => s.ready >= 10)?.t,
    mostReplicas: Math.max(0, ...samples.map((s) => s.replicas)),
    p50From10: percentile(late, 50),
    p90From10: percentile(late, 90),
    backAtMin: (() => {
      const back = afterLoad.find((s) => s.replicas === min);
      return back ? back.t - loadSeconds : undefined;
    })(),
  };
}

/** The replicas wanted over time, as "t:replicas/ready" at each change. */
export function timeline(samples: ReplicaSample[]): string {
  return samples
    .filter((s, i) => i === 0 || s.replicas !== samples[i - 1]!.replicas || s.ready !== samples[i - 1]!.ready)
    .map((s) => `${s.t.toFixed(1)}s:${s.replicas}/${s.ready}`)
    .join(' ');
}
