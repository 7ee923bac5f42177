// Waking a function with no ready task, and scale to zero when idle.
import { afterEach, describe, expect, it } from 'vitest';
import { WakeTimeoutError } from '../../src/programs/gateway/scaling/index.js';
import { harness, type Harness } from './scaling-fakes.js';
import { ref } from './support/fake-provider.js';

let h: Harness;
afterEach(async () => h?.close());

const ZERO = { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '10s' };

/** One pass of the idler after `ms` more (virtual) time. */
async function idlePass(ms = 0): Promise<void> {
  if (ms) h.clock.advance(ms);
  await h.scaler.idler.pass();
}

/** func_sleepy's replicas after an idle pass `ms` from now. */
async function replicasAfterIdlePass(ms = 0): Promise<number | undefined> {
  await idlePass(ms);
  return h.provider.replicas('func_sleepy');
}

describe('ensureAvailable (wake-up)', () => {
  it('scales a sleeping function to 1, resolves once a task is ready, and serves 20 waiting requests with one wake-up', async () => {
    h = await harness((p) => p.add('func_sleepy', { replicas: 0, labels: ZERO }));
    const started = h.clock.now();
    const waits = Array.from({ length: 20 }, () => h.scaler.ensureAvailable(ref('func_sleepy')));
    await Promise.all(waits);
    expect(h.provider.scaleCalls).toEqual([{ name: 'func_sleepy', replicas: 1 }]);
    expect(h.view.get(ref('func_sleepy'))?.status).toMatchObject({ replicas: 1, availableReplicas: 1 });
    // Ready 1200 ms (virtual) after the scale; polling notices within one pause.
    const took = h.clock.now() - started;
    expect(took).toBeGreaterThanOrEqual(1200);
    expect(took).toBeLessThan(1200 + 500);
    expect(h.lines.some((l) => l.msg === 'func_sleepy is awake')).toBe(true);
  });

  it('wakes to com.openfaas.scale.min when it is more than 1', async () => {
    h = await harness((p) => p.add('func_sleepy', { replicas: 0, labels: { ...ZERO, 'com.openfaas.scale.min': '3' } }));
    await h.scaler.ensureAvailable(ref('func_sleepy'));
    expect(h.provider.replicas('func_sleepy')).toBe(3);
  });

  it('does not scale a function that has replicas but none ready yet: it waits for them', async () => {
    h = await harness((p) => p.add('func_starting', { replicas: 0 }));
    await h.provider.scale(ref('func_starting'), 2);
    h.provider.scaleCalls.length = 0;
    await h.scaler.ensureAvailable(ref('func_starting'));
    expect(h.provider.scaleCalls).toEqual([]);
  });

  it('rejects with WakeTimeoutError naming the function and the timeout when no task becomes ready', async () => {
    h = await harness((p) => p.add('func_broken', { replicas: 0 }), { WAKE_TIMEOUT: '5s' });
    h.provider.startupMs = 60_000;
    const started = h.clock.now();
    const error = await h.scaler.ensureAvailable(ref('func_broken')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WakeTimeoutError);
    expect((error as Error).message).toMatch(/func_broken has no ready replica after waiting 5 s/);
    expect(h.clock.now() - started).toBe(5_000);
    // The next request waits again (no failed wake-up is left behind) for the task already asked for.
    h.provider.setReadyAt('func_broken', h.clock.now() + 100);
    await h.scaler.ensureAvailable(ref('func_broken'));
    expect(h.provider.scaleCalls).toEqual([{ name: 'func_broken', replicas: 1 }]);
  });

  it('lets one caller stop waiting without cancelling the wake-up for the others', async () => {
    h = await harness((p) => p.add('func_sleepy', { replicas: 0 }));
    const gone = new AbortController();
    const leaving = h.scaler.ensureAvailable(ref('func_sleepy'), gone.signal);
    const staying = h.scaler.ensureAvailable(ref('func_sleepy'));
    gone.abort(new Error('client went away'));
    await expect(leaving).rejects.toThrow('client went away');
    await staying;
    expect(h.provider.replicas('func_sleepy')).toBe(1);
  });

  it('answers with a starting task that its watchdog says is ready, before the provider lists any task', async () => {
    let woken = 0;
    h = await harness((p) => p.add('func_sleepy', { replicas: 0, labels: ZERO }), {}, {
      // The second task's watchdog is up 300 ms (virtual) after the scale; the first never answers.
      probe: async (address, clock) => address === '10.0.9.2:8080' && woken > 0 && clock.now() >= woken + 300,
    });
    h.provider.starting.set('func_sleepy', ['10.0.9.1:8080', '10.0.9.2:8080']);
    const original = h.provider.scale.bind(h.provider);
    h.provider.scale = async (fn, replicas, options) => {
      woken = h.clock.now();
      await original(fn, replicas, options);
    };
    const waits = Array.from({ length: 5 }, () => h.scaler.ensureAvailable(ref('func_sleepy')));
    expect(await Promise.all(waits)).toEqual(Array(5).fill('10.0.9.2:8080'));
    const took = h.clock.now() - woken;
    expect(took).toBeGreaterThanOrEqual(300);
    expect(took).toBeLessThan(1200); // before the provider's health check (startupMs)
    // The normal routing still has no task: the probed one is not listed before it is healthy.
    expect(h.provider.entryOf('func_sleepy')?.endpoints).toEqual([]);
    expect(h.provider.scaleCalls).toEqual([{ name: 'func_sleepy', replicas: 1 }]);
  });

  it('never answers with a task whose watchdog is not ready (starting, or draining before removal): waits for the provider', async () => {
    const probed: string[] = [];
    h = await harness((p) => p.add('func_sleepy', { replicas: 0, labels: ZERO }), {}, {
      probe: async (address) => {
        probed.push(address);
        return false;
      },
    });
    h.provider.starting.set('func_sleepy', ['10.0.9.1:8080']);
    const started = h.clock.now();
    expect(await h.scaler.ensureAvailable(ref('func_sleepy'))).toBeUndefined();
    expect(h.clock.now() - started).toBeGreaterThanOrEqual(1200);
    expect(probed.length).toBeGreaterThan(3);
  });

  it('rejects for a function that does not exist', async () => {
    h = await harness(() => {});
    await expect(h.scaler.ensureAvailable(ref('func_nosuch'))).rejects.toThrow(/func_nosuch not found/);
  });
});

describe('scale to zero', () => {
  it('scales an idle function labelled com.openfaas.scale.zero=true to 0 after its zero-duration, and not before', async () => {
    h = await harness((p) => {
      p.add('func_sleepy', { labels: ZERO });
      p.add('func_awake');
    });
    h.scaler.recordInvocation(ref('func_sleepy'));
    h.scaler.recordInvocation(ref('func_awake'));
    expect(await replicasAfterIdlePass(9_000)).toBe(1);
    expect(await replicasAfterIdlePass(1_000)).toBe(0);
    expect(h.view.get(ref('func_sleepy'))?.status.replicas).toBe(0);
    expect(h.provider.replicas('func_awake')).toBe(1);
    expect(h.lines.some((l) => /scaled func_sleepy to zero after 10 s without invocations/.test(l.msg))).toBe(true);
  });

  it('leaves alone a function never used through this gateway (it may be busy behind another gateway)', async () => {
    h = await harness((p) => p.add('func_elsewhere', { labels: ZERO }));
    await idlePass();
    await idlePass(3_600_000);
    expect(h.provider.scaleCalls).toEqual([]);
  });

  it('counts from the last invocation', async () => {
    h = await harness((p) => p.add('func_sleepy', { labels: ZERO }));
    h.scaler.recordInvocation(ref('func_sleepy'));
    h.clock.advance(8_000);
    h.scaler.recordInvocation(ref('func_sleepy'));
    expect(await replicasAfterIdlePass(8_000)).toBe(1);
    expect(await replicasAfterIdlePass(2_000)).toBe(0);
  });

  it('uses IDLE_TIMEOUT when the function sets no zero-duration', async () => {
    h = await harness((p) => p.add('func_sleepy', { labels: { 'com.openfaas.scale.zero': 'true' } }), { IDLE_TIMEOUT: '2m' });
    h.scaler.recordInvocation(ref('func_sleepy'));
    expect(await replicasAfterIdlePass(119_000)).toBe(1);
    expect(await replicasAfterIdlePass(1_000)).toBe(0);
  });

  it('leaves a function awake while it is invoked through another gateway, or while that is not known, and puts it to sleep when none invokes it', async () => {
    let elsewhere: number | undefined = 3;
    const asked: number[] = [];
    h = await harness((p) => p.add('func_sleepy', { labels: ZERO }), {}, {
      history: async (_ref, seconds) => {
        asked.push(seconds);
        return elsewhere;
      },
    });
    h.scaler.recordInvocation(ref('func_sleepy'));
    expect(await replicasAfterIdlePass(10_000)).toBe(1);
    expect(h.lines.some((l) => /invoked through another gateway/.test(l.msg))).toBe(true);
    elsewhere = undefined; // Prometheus does not answer
    expect(await replicasAfterIdlePass()).toBe(1);
    elsewhere = 0;
    expect(await replicasAfterIdlePass()).toBe(0);
    // Asked over the function's own idle period.
    expect(asked.every((s) => s === 10)).toBe(true);
  });

  it('does nothing when SCALE_TO_ZERO is off', async () => {
    h = await harness((p) => p.add('func_sleepy', { labels: ZERO }), { SCALE_TO_ZERO: 'false' });
    h.scaler.recordInvocation(ref('func_sleepy'));
    await idlePass(60_000);
    expect(h.provider.scaleCalls).toEqual([]);
  });

  it('sleeps, wakes on a request, and starts a fresh idle period after waking', async () => {
    h = await harness((p) => p.add('func_sleepy', { labels: ZERO }));
    h.scaler.recordInvocation(ref('func_sleepy'));
    expect(await replicasAfterIdlePass(10_000)).toBe(0);
    h.scaler.recordInvocation(ref('func_sleepy'));
    await h.scaler.ensureAvailable(ref('func_sleepy'));
    expect(await replicasAfterIdlePass()).toBe(1);
    expect(await replicasAfterIdlePass(10_000)).toBe(0);
    expect(h.provider.scaleCalls.map((c) => c.replicas)).toEqual([0, 1, 0]);
  });

  it('runs on its own timer once started', async () => {
    h = await harness((p) => p.add('func_sleepy', { labels: { ...ZERO, 'com.openfaas.scale.zero-duration': '1ms' } }), { IDLE_CHECK_INTERVAL: '100ms' });
    h.scaler.start();
    h.scaler.recordInvocation(ref('func_sleepy'));
    try {
      const deadline = Date.now() + 3_000;
      while (h.provider.replicas('func_sleepy') !== 0 && Date.now() < deadline) {
        h.clock.advance(1_000);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(h.provider.replicas('func_sleepy')).toBe(0);
    } finally {
      h.scaler.stop();
    }
  });
});
