// Issue 25 on the real Swarm: a function with a concurrency limit per
// replica (com.openfaas.concurrency) gets its calls queued, not refused,
// whoever makes them (the gateway and the queue worker at once: the
// watchdog's own 429 is retried, never seen); a line too long is a 429 with
// Retry-After, never a hang; a bad label is a 400; and capacity scaling
// sizes the 1-second function on its calls in flight: 20 clients for 45 s,
// 0 failed, 10 replicas within 5 s, p50 under 1.2 s from the 10th second,
// back to its minimum after the stable window (15 s in the test stack).
// Figures print as [concurrency] lines.
import { afterAll, describe, expect, it } from 'vitest';
import { callbackUrl, deployReceiver, deploySlowEcho, invokeAsync, received } from './support/async.js';
import { closedLoop, figures, sampleReplicas, timeline } from './support/concurrency.js';
import { deployFunction, invoke, removeFunction } from './support/functions.js';
import { fn, gatewayUrl, image, systemFetch, waitFor } from './support/gateway.js';

const SLOW = fn('ccslow');
const RECEIVER = fn('ccreceiver');
const SECOND = fn('ccsecond');
const deployed: string[] = [];

afterAll(async () => {
  for (const name of deployed) await removeFunction(name);
});

function report(line: string): void {
  process.stderr.write(`[concurrency] ${line}\n`);
}

/** This gateway's count of calls a replica refused at its own limit (each went back in line). */
async function refusedByReplicas(name: string): Promise<number> {
  const text = await (await fetch(gatewayUrl('/metrics'))).text();
  const match = new RegExp(`^gateway_function_instance_full_total\\{function_name="${name}"\\} (\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
}

describe('a concurrency limit per replica', () => {
  it('queues calls beyond the limit, from the gateway and the queue worker at once: every call answered, no replica given more than 2', async () => {
    await Promise.all([
      deploySlowEcho(SLOW, 300, { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.max': '1', 'com.openfaas.scale.factor': '0' }),
      deployReceiver(RECEIVER),
    ]);
    deployed.push(SLOW, RECEIVER);
    const before = (await received(RECEIVER)).length;
    const started = Date.now();
    // 12 synchronous calls and 10 queued ones, at once: two programs, each admitting 2 at a time to the one replica.
    const accepted = await Promise.all(Array.from({ length: 10 }, (_, i) => invokeAsync(SLOW, `async ${i}`, { 'X-Callback-Url': callbackUrl(RECEIVER) })));
    expect(accepted.map((a) => a.status)).toEqual(Array(10).fill(202));
    const sync = await Promise.all(Array.from({ length: 12 }, (_, i) => invoke(SLOW, `sync ${i}`, 60_000)));
    const callbacks = await waitFor('10 callbacks', async () => {
      const got = await received(RECEIVER, before);
      return got.length >= 10 ? got : undefined;
    }, 90_000, 500);
    expect(callbacks.map((c) => c.callId).sort()).toEqual(accepted.map((a) => a.callId).sort());
    const seconds = (Date.now() - started) / 1000;
    const most = Number(await (await fetch(gatewayUrl(`/function/${SLOW}/max`))).text());
    const refused = await refusedByReplicas(SLOW);
    report(`limit 2, one replica, 12 sync + 10 async calls of 300 ms at once: sync ${sync.filter((a) => a.status === 200).length}/12 answered 200, callbacks ${callbacks.filter((c) => c.status === '200').length}/10 with 200; most at once in the replica ${most}; the watchdog's 429s the gateway took back and sent again: ${refused}; ${seconds.toFixed(1)} s`);
    expect(sync.map((a) => `${a.status} ${a.text}`)).toEqual(Array.from({ length: 12 }, (_, i) => `200 sync ${i}`));
    expect(callbacks.map((c) => c.status)).toEqual(Array(10).fill('200'));
    expect(callbacks.filter((c) => c.deadLetter !== null)).toEqual([]);
    expect(most).toBeLessThanOrEqual(2);
    // 22 calls of 300 ms, 2 at a time: at least 3.3 s.
    expect(seconds).toBeGreaterThanOrEqual(3.3);
  }, 300_000); // two functions deployed on a machine that may be busy

  it('answers 429 with Retry-After at once beyond the longest line (CONCURRENCY_MAX_WAITING, 40 in the test stack), and the rest in turn', async () => {
    const before = await refusedByReplicas(SLOW);
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => fetch(gatewayUrl(`/function/${SLOW}`), { method: 'POST', body: `line ${i}`, signal: AbortSignal.timeout(60_000) })
      .then(async (res) => ({ status: res.status, retryAfter: res.headers.get('retry-after'), text: await res.text() }))));
    const refused = answers.filter((a) => a.status === 429);
    const other = answers.filter((a) => a.status !== 200 && a.status !== 429).map((a) => `${a.status} ${a.text.slice(0, 80)}`);
    report(`50 calls at once, limit 2, a line of at most 40: ${answers.filter((a) => a.status === 200).length} answered 200, ${refused.length} refused with 429 (Retry-After ${refused[0]?.retryAfter})${other.length ? `; others: ${other.join(', ')}` : ''}`);
    expect(other).toEqual([]);
    expect(answers.filter((a) => a.status === 200)).toHaveLength(42);
    expect(refused).toHaveLength(8);
    expect(refused.every((a) => a.retryAfter === '1' && /40 calls waiting for a free slot already \(CONCURRENCY_MAX_WAITING\)/.test(a.text))).toBe(true);
    // One gateway alone never sends a replica more than its limit: the watchdog refused nothing.
    expect(await refusedByReplicas(SLOW)).toBe(before);
  });

  it('refuses a bad concurrency or target with 400 naming the label and why, on deploy and on update', async () => {
    const send = (method: string, labels: Record<string, string>) =>
      systemFetch('/system/functions', { method, body: JSON.stringify({ service: method === 'POST' ? fn('ccbad') : SLOW, image: image('echoit'), labels }) });
    const zero = await send('POST', { 'com.openfaas.concurrency': '0' });
    expect(zero.status).toBe(400);
    expect(await zero.text()).toMatch(/labels\.com\.openfaas\.concurrency: "0" is not a whole number from 1 to 10000/);
    const fraction = await send('POST', { 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '1.5' });
    expect(fraction.status).toBe(400);
    expect(await fraction.text()).toMatch(/labels\.com\.openfaas\.scale\.target: "1\.5" is not a whole number/);
    const above = await send('PUT', { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.target': '3' });
    expect(above.status).toBe(400);
    expect(await above.text()).toMatch(/labels\.com\.openfaas\.scale\.target: 3 is above the concurrency limit \(2\)/);
    expect((await systemFetch(`/system/function/${fn('ccbad')}`)).status).toBe(404);
  });
});

describe('capacity scaling (com.openfaas.scale.type=capacity)', () => {
  it('sizes the 1-second function with limit 2 for 20 clients: 0 failed, 10 replicas within 5 s, p50 < 1.2 s from the 10th second, back to its minimum after the stable window', async () => {
    await deployFunction({
      service: SECOND,
      image: image('echoit'),
      envProcess: "sh -c 'sleep 1; cat'",
      labels: { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.max': '20', 'com.openfaas.scale.min': '1' },
    });
    deployed.push(SECOND);
    const LOAD_SECONDS = 45;
    const origin = performance.now();
    const watch = sampleReplicas(SECOND, origin);
    let calls;
    let samples;
    try {
      calls = await closedLoop([gatewayUrl()], SECOND, 20, LOAD_SECONDS, origin);
      // The stable window (15 s here) after the load, and some: back at 1.
      await waitFor(`${SECOND} back at 1 replica`, async () => ((watch.samples.at(-1)?.replicas ?? 0) === 1 && watch.samples.at(-1)!.t > LOAD_SECONDS ? true : undefined), 90_000, 500);
    } finally {
      await watch.stop();
      samples = watch.samples;
    }
    const f = figures(calls, samples, LOAD_SECONDS, 1);
    const refused = await refusedByReplicas(SECOND);
    report(
      `capacity, 1 s function, limit 2, 20 clients for ${LOAD_SECONDS} s: ${f.calls} calls, ${f.failed} failed ${JSON.stringify(f.failures)}; 10 replicas wanted at ${f.tenWanted?.toFixed(1)} s, ready at ${f.tenReady?.toFixed(1)} s; at most ${f.mostReplicas}; p50 from the 10th second ${f.p50From10.toFixed(3)} s (p90 ${f.p90From10.toFixed(3)} s); back at 1 replica ${f.backAtMin?.toFixed(1)} s after the load; watchdog 429s taken back: ${refused}`,
    );
    report(`timeline (t:wanted/ready): ${timeline(samples)}`);
    expect(f.failed).toBe(0);
    expect(f.tenWanted).toBeDefined();
    expect(f.tenWanted!).toBeLessThanOrEqual(5);
    expect(f.p50From10).toBeLessThan(1.2);
    expect(f.mostReplicas).toBeLessThanOrEqual(20);
    // No step down during the load.
    const during = samples.filter((s) => s.t > f.tenWanted! && s.t < LOAD_SECONDS);
    expect(Math.min(...during.map((s) => s.replicas))).toBeGreaterThanOrEqual(10);
    // Back at its minimum after the stable window (15 s), within another 30 s.
    expect(f.backAtMin).toBeDefined();
    expect(f.backAtMin!).toBeGreaterThanOrEqual(10);
    expect(f.backAtMin!).toBeLessThanOrEqual(45);
  }, 300_000);
});
