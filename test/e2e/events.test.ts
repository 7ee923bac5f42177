// Event-driven functions on the real Swarm with the real NATS and the
// stack's connector: publishing through POST /system/events invokes every
// subscribed function (counted), a request gets the function's answer,
// subscriptions follow a deploy, an update and a delete within 2 s, bad
// input is refused, and the function's page shows its topics and runs.
// Figures print as "[events] ..." lines.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openBrowser } from './support/browser.js';
import { connectorMetrics, connectors, deployRecorder, deploySink, metricSum, publish, recorderSpec, records, report, type Record } from './support/events.js';
import { containersOf, removeFunction } from './support/functions.js';
import { fn, gatewayUrl, systemFetch, waitFor } from './support/gateway.js';

const a = fn('evta');
const b = fn('evtb');
const c = fn('evtc');
const sink = fn('evsink');
const live = fn('evlive');
const created = [a, b, c, sink, live];

beforeAll(async () => {
  await Promise.all([
    deployRecorder(a, { annotations: { topic: 'evt.orders,evt.ask' } }),
    deployRecorder(b, { annotations: { topic: 'evt.orders, evt.other' } }),
    deployRecorder(c, { annotations: { topic: 'evt.other' } }),
    deploySink(sink),
  ]);
  // The connector follows Swarm within a second or two of a deploy.
  const [connector] = await connectors();
  await waitFor('the connector subscribed to evt.orders', async () => (metricSum(await connectorMetrics(connector!), 'events_subscriptions{subject="evt.orders",delivery="at-most-once"}') === 2 ? true : undefined), 30_000, 250);
});

afterAll(async () => {
  for (const name of created) await removeFunction(name);
});

/** Waits until `service` holds at least `count` records that `mine` picks; answers those. */
async function recordsOf(service: string, count: number, mine: (r: Record) => boolean, timeoutMs = 20_000): Promise<Record[]> {
  let all: Record[] = [];
  await waitFor(`${count} records in ${service}`, async () => {
    all = (await records(service)).filter(mine);
    return all.length >= count ? true : undefined;
  }, timeoutMs, 250).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; it has ${all.length}`);
  });
  return all;
}

describe('topics (at-most-once)', () => {
  it('invokes every function subscribed to the subject with each message, its headers and the subject in X-Topic', async () => {
    const run = `m-${Date.now()}`;
    const sent = 20;
    const started = Date.now();
    for (let i = 0; i < sent; i++) {
      const res = await publish('evt.orders', `${run}-${i}`, { 'x-order-id': String(i), 'content-type': 'application/json' });
      expect(res.status, res.text).toBe(202);
      expect(res.json).toMatchObject({ delivery: 'at-most-once', subscribers: 2 });
    }
    const ours = (r: Record) => r.body.startsWith(run);
    const [gotA, gotB] = await Promise.all([recordsOf(a, sent, ours), recordsOf(b, sent, ours)]);
    const ms = Date.now() - started;
    // A little longer: a message too many would show now.
    await new Promise((r) => setTimeout(r, 500));
    const mine = (list: Record[]) => list.filter(ours);
    expect(mine(gotA).map((r) => r.body).sort()).toEqual(Array.from({ length: sent }, (_, i) => `${run}-${i}`).sort());
    expect(mine(await records(b))).toHaveLength(sent);
    expect(mine(await records(a))).toHaveLength(sent);
    const one = mine(gotA).find((r) => r.body === `${run}-3`)!;
    expect(one).toMatchObject({ topic: 'evt.orders', contentType: 'application/json' });
    expect(one.x['x-order-id']).toBe('3');
    expect(one.callId).toMatch(/.+/);
    // Not subscribed to evt.orders: nothing.
    expect((await records(c)).filter((r) => r.body.startsWith(run))).toEqual([]);
    // Counted by the connector, per subject.
    const [connector] = await connectors();
    const text = await connectorMetrics(connector!);
    expect(metricSum(text, 'events_messages_received_total{subject="evt.orders",delivery="at-most-once"}')).toBeGreaterThanOrEqual(sent);
    expect(metricSum(text, `events_invocations_total{function_name="${a}",trigger="topic",outcome="success"}`)).toBeGreaterThanOrEqual(sent);
    report(`${sent} messages published to evt.orders: ${mine(gotA).length} invocations of ${a}, ${mine(gotB).length} of ${b}, 0 of ${c} (not subscribed); all in ${ms} ms`);
  });

  it('answers a request (reply=true) with the subscribed function\'s answer', async () => {
    const started = Date.now();
    const res = await publish('evt.ask', 'question', {}, '?reply=true&timeout=10s');
    expect(res.status, res.text).toBe(200);
    expect(res.text).toBe('got:question');
    expect(res.headers.get('x-function-name')).toBe(a);
    expect(res.headers.get('x-function-status')).toBe('200');
    report(`request-reply on evt.ask: the function's answer in ${Date.now() - started} ms`);
  });

  it('refuses what it cannot publish, saying why', async () => {
    for (const [subject, why] of [
      ['faas-async.openfaas-fn.x', /stack's own/],
      ['$JS.API.STREAM.DELETE.faas-async', /stack's own/],
      ['evt.*', /without wildcards/],
      ['cron-function', /schedule trigger/],
    ] as const) {
      const res = await publish(encodeURIComponent(subject), 'x');
      expect(res.status, subject).toBe(400);
      expect(res.text).toMatch(why);
    }
    const none = await publish('evt.nobody', 'x', {}, '?reply=true&timeout=2s');
    expect(none.status).toBe(404);
    expect(none.text).toMatch(/no function subscribes/);
    expect((await publish('evt.ask', 'x', {}, '?reply=true&timeout=forever')).status).toBe(400);
    expect((await fetch(gatewayUrl('/system/events/evt.orders'), { method: 'POST', body: 'x' })).status).toBe(401);
    // Nobody listens: accepted (at-most-once), no subscriber.
    const unheard = await publish('evt.nobody', 'x');
    expect(unheard.status).toBe(202);
    expect(unheard.json).toMatchObject({ subscribers: 0 });
  });
});

describe('subscriptions follow the functions', () => {
  it('follow a deploy, an update and a delete within 2 s', async () => {
    const [connector] = await connectors();
    const subscribed = async (subject: string) => metricSum(await connectorMetrics(connector!), `events_subscriptions{subject="${subject}"`);
    // Publish to both subjects every 100 ms; the function forwards what it gets to the sink, which outlives its updates.
    let publishing = true;
    const publisher = (async () => {
      while (publishing) {
        await Promise.all([publish('evt.live.a', `evt.live.a|${Date.now()}`), publish('evt.live.b', `evt.live.b|${Date.now()}`)]);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const sentAt = (r: Record) => Number(r.body.split('|')[1]);
    const got = async (topic: string) => (await records(sink)).filter((r) => r.topic === topic);
    try {
      // Deploy.
      const spec = recorderSpec(live, { annotations: { topic: 'evt.live.a' }, forwardTo: sink });
      const deployedAt = Date.now();
      const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(spec) });
      expect(res.status).toBe(202);
      const subscribedAfter = await waitFor('the subscription to evt.live.a', async () => ((await subscribed('evt.live.a')) === 1 ? Date.now() - deployedAt : undefined), 10_000, 100);
      const first = await waitFor('a forwarded message of evt.live.a', async () => {
        const list = await got('evt.live.a');
        return list.length > 0 ? Math.min(...list.map(sentAt)) : undefined;
      }, 60_000, 250);
      // The first message invoked was published within 2 s of the deploy (the function's task took longer to start: the calls were held).
      const deployLag = first - deployedAt;
      await waitFor(`${live} running`, async () => ((await containersOf(live)).length === 1 ? true : undefined), 60_000, 250);

      // Update: from evt.live.a to evt.live.b.
      await new Promise((r) => setTimeout(r, 1_000));
      const updatedAt = Date.now();
      const update = await systemFetch('/system/functions', { method: 'PUT', body: JSON.stringify({ ...spec, annotations: { topic: 'evt.live.b' } }) });
      expect(update.status).toBe(202);
      const switchedAfter = await waitFor('the subscription moved to evt.live.b', async () => ((await subscribed('evt.live.b')) === 1 && (await subscribed('evt.live.a')) === 0 ? Date.now() - updatedAt : undefined), 10_000, 100);
      await new Promise((r) => setTimeout(r, 3_000));
      const lastA = Math.max(...(await got('evt.live.a')).map(sentAt));
      const firstB = Math.min(...(await got('evt.live.b')).map(sentAt));

      // Delete.
      const deletedAt = Date.now();
      const removed = await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: live }) });
      expect(removed.status).toBe(202);
      const goneAfter = await waitFor('no subscription to evt.live.b', async () => ((await subscribed('evt.live.b')) === 0 ? Date.now() - deletedAt : undefined), 10_000, 100);
      await new Promise((r) => setTimeout(r, 2_000));
      const lastB = Math.max(...(await got('evt.live.b')).map(sentAt));

      report(`deploy: subscribed ${subscribedAfter} ms after the 202, first message invoked was published ${deployLag} ms after it`);
      report(`update a -> b: subscriptions switched ${switchedAfter} ms after the 202; last evt.live.a message invoked was published ${lastA - updatedAt} ms after it, first evt.live.b ${firstB - updatedAt} ms after it`);
      report(`delete: unsubscribed ${goneAfter} ms after the 202; last message invoked was published ${lastB - deletedAt} ms after it`);
      expect(subscribedAfter).toBeLessThan(2_000);
      expect(deployLag).toBeLessThan(2_000);
      expect(switchedAfter).toBeLessThan(2_000);
      expect(lastA - updatedAt).toBeLessThan(2_000);
      expect(firstB - updatedAt).toBeLessThan(2_000);
      expect(goneAfter).toBeLessThan(2_000);
      expect(lastB - deletedAt).toBeLessThan(2_000);
    } finally {
      publishing = false;
      await publisher;
    }
  }, 180_000);
});

describe('the function page', () => {
  it('shows the function\'s topics and its last runs with their outcome', async () => {
    const res = await systemFetch(`/system/function/${a}/events`);
    expect(res.status).toBe(200);
    const events = (await res.json()) as { topics: string[]; delivery: string; runs: Array<{ subject: string; outcome: string; status: number }> | null };
    expect(events.topics).toEqual(['evt.orders', 'evt.ask']);
    expect(events.runs?.[0]).toMatchObject({ outcome: 'success', status: 200 });
    expect((await systemFetch(`/system/function/${fn('no-such-function')}/events`)).status).toBe(404);

    const [username, password] = inject('credentials').split(':') as [string, string];
    const browser = await openBrowser({ httpCredentials: { username, password } });
    try {
      await browser.page.goto(gatewayUrl(`/ui/#/fn/${a}`));
      const panel = browser.page.locator('[data-testid="events-panel"]');
      await panel.waitFor({ timeout: 15_000 });
      await browser.page.locator('[data-testid="event-topics"]', { hasText: 'evt.orders' }).waitFor({ timeout: 15_000 });
      const row = browser.page.locator('[data-testid="event-runs"] tbody tr').first();
      await row.waitFor({ timeout: 15_000 });
      expect(await row.getAttribute('data-outcome')).toBe('success');
      // Publish from the page: the function gets it.
      const marker = `from-ui-${Date.now()}`;
      await browser.page.locator('[data-testid="event-publish"] input[name="subject"]').fill('evt.orders');
      await browser.page.locator('[data-testid="event-publish"] textarea').fill(marker);
      await browser.page.locator('[data-testid="event-publish"] button[type="submit"]').click();
      await browser.page.locator('[data-testid="event-publish-result"]', { hasText: '202' }).waitFor({ timeout: 10_000 });
      await waitFor('the message from the UI in the function', async () => ((await records(a)).some((r) => r.body === marker) ? true : undefined), 15_000, 250);
    } finally {
      await browser.close();
    }
  });
});
