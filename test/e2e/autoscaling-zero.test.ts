// Scale to zero and back on the real stack: a function deployed through the
// API with com.openfaas.scale.zero=true idles to 0 replicas; then 20
// concurrent requests all get its normal answer from one wake-up. Manual
// scaling to 0 (how a user puts a function to sleep) and above the maximum.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionState, scaleFunction } from './support/scaling.js';
import { fn, gatewayUrl, listFunctions, systemFetch, waitFor } from './support/gateway.js';

const sleepy = fn('sleepy');
const IDLE = 10; // seconds, the function's com.openfaas.scale.zero-duration

async function remove(): Promise<void> {
  await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: sleepy }) });
  await waitFor(`${sleepy} to be gone`, async () => ((await listFunctions()).some((f) => f.name === sleepy) ? undefined : true), 60_000, 1000);
}

async function asleep(): Promise<void> {
  await waitFor(`${sleepy} at 0 replicas with no task left`, async () => {
    const s = await functionState(sleepy);
    return s.replicas === 0 && s.availableReplicas === 0 ? s : undefined;
  }, 60_000, 500);
}

async function invoke(body: string): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(gatewayUrl(`/function/${sleepy}`), { method: 'POST', body, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  return { status: res.status, text, ms: performance.now() - started };
}

describe('scale to zero and wake-up', () => {
  beforeAll(async () => {
    const echoit = (await listFunctions()).find((f) => f.name === fn('echoit'));
    if (!echoit) throw new Error('the stack has no echoit to take the image from');
    if ((await listFunctions()).some((f) => f.name === sleepy)) await remove();
    const res = await systemFetch('/system/functions', {
      method: 'POST',
      body: JSON.stringify({
        service: sleepy,
        image: echoit.image,
        labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': `${IDLE}s` },
      }),
    });
    expect(res.status, await res.text()).toBe(202);
    await waitFor(`${sleepy} ready`, async () => ((await functionState(sleepy)).availableReplicas === 1 ? true : undefined), 90_000, 500);
    expect((await invoke('first')).status).toBe(200);
  }, 150_000);

  afterAll(async () => {
    await remove().catch((error: unknown) => process.stderr.write(`[scale-to-zero] cleanup failed: ${String(error)}\n`));
  }, 90_000);

  it(`idles to 0 replicas after ${IDLE} s without invocations`, async () => {
    const lastUsed = performance.now();
    await asleep();
    const after = (performance.now() - lastUsed) / 1000;
    process.stderr.write(`[scale-to-zero] ${sleepy} asleep ${after.toFixed(1)} s after its last invocation (zero-duration ${IDLE} s)\n`);
    expect(after).toBeGreaterThanOrEqual(IDLE - 1);
  });

  it('wakes on 20 concurrent requests: every one gets the function\'s answer, from one wake-up', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => invoke(`wake ${i}`)));
    for (const [i, r] of results.entries()) {
      expect(r.status, r.text).toBe(200);
      expect(r.text).toBe(`wake ${i}`);
    }
    const latencies = results.map((r) => r.ms);
    process.stderr.write(
      `[scale-to-zero] woke ${sleepy}: first request ${latencies[0]!.toFixed(0)} ms, slowest ${Math.max(...latencies).toFixed(0)} ms, fastest ${Math.min(...latencies).toFixed(0)} ms\n`,
    );
    // One wake-up to the minimum (1), not one per request. The answers may come
    // before Swarm's own health check passes (the gateway probes the task itself).
    expect((await functionState(sleepy)).replicas).toBe(1);
    await waitFor(`${sleepy} healthy`, async () => ((await functionState(sleepy)).availableReplicas === 1 ? true : undefined), 30_000, 500);
    expect(await functionState(sleepy)).toEqual({ replicas: 1, availableReplicas: 1 });
  });

  it('sleeps on POST /system/scale-function with 0, and the next request wakes it', async () => {
    const res = await scaleFunction(sleepy, 0);
    expect(res.status, await res.text()).toBe(202);
    await asleep();
    const woke = await invoke('after manual sleep');
    expect(woke.status, woke.text).toBe(200);
    expect(woke.text).toBe('after manual sleep');
    process.stderr.write(`[scale-to-zero] woke after a manual scale to 0 in ${woke.ms.toFixed(0)} ms\n`);
  });

  it('refuses a scale above the maximum with 400 and leaves the replicas alone', async () => {
    const res = await scaleFunction(sleepy, 21);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/above the maximum/);
    expect((await functionState(sleepy)).replicas).toBe(1);
  });
});
