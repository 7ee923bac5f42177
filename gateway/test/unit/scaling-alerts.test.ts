// POST /system/alert with payloads recorded from AlertManager 0.25
// (test/e2e/fixtures/alertmanager-*.json), against fake functions.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertOutcome } from '../../src/programs/gateway/scaling/alerts.js';
import { harness, type FakeProvider, type Harness } from './scaling-fakes.js';
import { ref } from './support/fake-provider.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../../test/e2e/fixtures/alertmanager-${name}.json`, import.meta.url), 'utf8'));

const outcomes = (res: { json: () => unknown }) => (res.json() as { outcomes: AlertOutcome[] }).outcomes;

let h: Harness;
afterEach(async () => h?.close());

/** Invocations through the gateway, as a load that goes on would make them. */
function invocations(name: string, count = 20): void {
  for (let i = 0; i < count; i++) h.scaler.recordInvocation(ref(name));
}

function stack(p: FakeProvider) {
  p.add('func_echoit');
  p.add('func_markdown');
  p.add('func_wordcount', { labels: { 'com.faas.max_replicas': '10' } });
  // A service of the stack that is not a function (no function=true label).
  p.add('func_prometheus', { isFunction: false });
}

describe('POST /system/alert', () => {
  it('steps a function up on firing and back to 1 on resolved', async () => {
    h = await harness(stack);
    const firing = await h.post('/system/alert', fixture('firing'));
    expect(firing.status).toBe(200);
    expect(outcomes(firing)).toEqual([expect.objectContaining({ function: 'func_echoit', action: 'scaled', from: 1, to: 5 })]);
    expect(h.provider.replicas('func_echoit')).toBe(5);
    // The view the proxy reads sees the change at once.
    expect(h.view.get(ref('func_echoit'))?.status.replicas).toBe(5);

    const resolved = await h.post('/system/alert', fixture('resolved'));
    expect(resolved.status).toBe(200);
    expect(outcomes(resolved)).toEqual([expect.objectContaining({ function: 'func_echoit', action: 'scaled', from: 5, to: 1 })]);
    expect(h.provider.replicas('func_echoit')).toBe(1);
  });

  it('keeps stepping while AlertManager repeats the alert, up to 20, and stops there', async () => {
    h = await harness(stack);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      h.clock.advance(10_000); // AlertManager's repeat_interval
      invocations('func_echoit'); // the load goes on
      expect((await h.post('/system/alert', fixture('firing'))).status).toBe(200);
      seen.push(h.provider.replicas('func_echoit')!);
    }
    expect(seen).toEqual([5, 10, 15, 20, 20, 20]);
  });

  it('caps at the com.faas.max_replicas label', async () => {
    h = await harness(stack);
    const payload = JSON.parse(JSON.stringify(fixture('firing')).replaceAll('func_echoit', 'func_wordcount'));
    for (let i = 0; i < 4; i++) {
      h.clock.advance(10_000);
      invocations('func_wordcount');
      await h.post('/system/alert', payload);
    }
    expect(h.provider.replicas('func_wordcount')).toBe(10);
  });

  it('treats a repeated delivery within SCALE_COOLDOWN as harmless: one step, not two', async () => {
    h = await harness(stack);
    await h.post('/system/alert', fixture('firing'));
    h.clock.advance(1_000);
    const again = await h.post('/system/alert', fixture('firing'));
    expect(again.status).toBe(200);
    expect(outcomes(again)[0]).toMatchObject({ action: 'unchanged', reason: expect.stringMatching(/less than 5 s ago/) });
    expect(h.provider.replicas('func_echoit')).toBe(5);
    expect(h.provider.scaleCalls).toHaveLength(1);
  });

  it('does not step on a repeat of the alert once invocations have stopped (the alert lags the load), but does on a new alert', async () => {
    h = await harness(stack);
    invocations('func_echoit');
    await h.post('/system/alert', fixture('firing'));
    h.clock.advance(10_000);
    // A trickle below 1 request/s is not the load the alert was about.
    invocations('func_echoit', 3);
    const repeat = await h.post('/system/alert', fixture('firing'));
    expect(outcomes(repeat)[0]).toMatchObject({ action: 'unchanged', reason: '3 invocation(s) in the last 5 s: the load has stopped' });
    expect(h.provider.replicas('func_echoit')).toBe(5);
    // The same alert after it resolved and fired again has a new start: it steps.
    const again = fixture('firing') as { alerts: Array<{ startsAt: string }> };
    again.alerts[0]!.startsAt = '2026-11-23T12:30:00Z';
    h.clock.advance(10_000);
    expect(outcomes(await h.post('/system/alert', again))[0]).toMatchObject({ action: 'scaled', from: 5, to: 10 });
  });

  it('treats a repeated resolved alert as harmless', async () => {
    h = await harness(stack);
    await h.post('/system/alert', fixture('firing'));
    await h.post('/system/alert', fixture('resolved'));
    const again = await h.post('/system/alert', fixture('resolved'));
    expect(again.status).toBe(200);
    expect(outcomes(again)[0]).toMatchObject({ action: 'unchanged', from: 1, to: 1 });
    expect(h.provider.scaleCalls.map((c) => c.replicas)).toEqual([5, 1]);
  });

  it('scales each function named in one payload, and ignores unknown and non-function services with a log line', async () => {
    h = await harness(stack);
    const res = await h.post('/system/alert', fixture('several-firing'));
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(outcomes(res).map((o) => [o.function, o]));
    expect(byName.func_echoit).toMatchObject({ action: 'scaled', to: 5 });
    expect(byName.func_markdown).toMatchObject({ action: 'scaled', to: 5 });
    expect(byName.func_nosuch).toMatchObject({ action: 'ignored', reason: 'not a function' });
    expect(byName.func_prometheus).toMatchObject({ action: 'ignored', reason: 'not a function' });
    expect(h.provider.scaleCalls.map((c) => c.name).sort()).toEqual(['func_echoit', 'func_markdown']);
    const ignored = h.lines.filter((l) => /not a function/.test(l.msg)).map((l) => l.function);
    expect(ignored.sort()).toEqual(['func_nosuch', 'func_prometheus']);
  });

  it('follows each alert status in a mixed payload: echoit resolved while markdown keeps firing', async () => {
    h = await harness(stack);
    await h.post('/system/alert', fixture('several-firing'));
    h.clock.advance(10_000);
    invocations('func_markdown');
    const res = await h.post('/system/alert', fixture('several-mixed'));
    expect(res.status).toBe(200);
    expect(h.provider.replicas('func_echoit')).toBe(1);
    expect(h.provider.replicas('func_markdown')).toBe(10);
  });

  it('ignores an alert that names no function (service_down) with a log line', async () => {
    h = await harness(stack);
    const res = await h.post('/system/alert', fixture('service-down'));
    expect(res.status).toBe(200);
    expect(outcomes(res)).toEqual([expect.objectContaining({ action: 'ignored', reason: 'no function_name label' })]);
    expect(h.provider.scaleCalls).toEqual([]);
    expect(h.lines.some((l) => l.msg.includes('service_down names no function'))).toBe(true);
  });

  it('refuses a malformed payload with 400, naming the problem, and changes nothing', async () => {
    h = await harness(stack);
    const res = await h.post('/system/alert', fixture('malformed'));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/alerts: /);
    const badAlert = await h.post('/system/alert', { alerts: [{ status: 'firing', labels: { function_name: 'func_echoit' } }, { status: 'burning', labels: {} }] });
    expect(badAlert.status).toBe(400);
    expect(badAlert.text).toMatch(/alerts\.1\.status/);
    expect((await h.post('/system/alert', 'not json')).status).toBe(400);
    expect((await h.post('/system/alert', '')).status).toBe(400);
    expect(h.provider.scaleCalls).toEqual([]);
  });

  it('leaves a function with com.openfaas.scale.factor=0 alone', async () => {
    h = await harness((p) => p.add('func_echoit', { labels: { 'com.openfaas.scale.factor': '0' } }));
    const res = await h.post('/system/alert', fixture('firing'));
    expect(res.status).toBe(200);
    expect(outcomes(res)[0]).toMatchObject({ action: 'unchanged' });
    expect(h.provider.scaleCalls).toEqual([]);
  });

  it('does not wake a sleeping function on resolved', async () => {
    h = await harness((p) => p.add('func_echoit', { replicas: 0 }));
    const res = await h.post('/system/alert', fixture('resolved'));
    expect(outcomes(res)[0]).toMatchObject({ action: 'unchanged', reason: expect.stringMatching(/asleep/) });
    expect(h.provider.replicas('func_echoit')).toBe(0);
  });

  it('answers 502 when Docker refuses, still scales the other functions, and a retry steps once', async () => {
    h = await harness(stack);
    h.provider.failing.add('func_markdown');
    const res = await h.post('/system/alert', fixture('several-firing'));
    expect(res.status).toBe(502);
    expect(res.text).toMatch(/scaling failed for func_markdown: docker refused/);
    expect(h.provider.replicas('func_echoit')).toBe(5);
    // AlertManager retries the same notification a moment later.
    h.provider.failing.clear();
    h.clock.advance(500);
    expect((await h.post('/system/alert', fixture('several-firing'))).status).toBe(200);
    expect(h.provider.replicas('func_echoit')).toBe(5);
    expect(h.provider.replicas('func_markdown')).toBe(5);
  });
});
