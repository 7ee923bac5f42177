// Event-driven functions under faults and load, on the real Swarm and NATS:
// a durable subject loses no message while the connector is killed and NATS
// restarted (1,000 messages); a 6-field schedule every 2 s runs the expected
// number of times and never twice a tick with two connector replicas; a
// queue-scaled function at 0 replicas goes 0 -> N -> 0 on a burst of 500
// messages, losing none. Figures print as "[events] ..." lines.
import { afterAll, describe, expect, it } from 'vitest';
import { connectorMetrics, connectors, deployRecorder, deploySink, metricSum, publish, recorderSpec, records, report, type Record } from './support/events.js';
import { containersOf, docker, killNats, removeFunction } from './support/functions.js';
import { fn, gatewayUrl, monitoringFetch, systemFetch, waitFor } from './support/gateway.js';

const created: string[] = [];
afterAll(async () => {
  for (const name of created) await removeFunction(name);
});

async function replicasOf(name: string): Promise<number> {
  const res = await systemFetch(`/system/function/${name}`);
  return res.status === 200 ? ((await res.json()) as { replicas: number }).replicas : -1;
}

/** Publishes until accepted: a 503 (NATS restarting) or no answer (the gateway restarting) is tried again, with the same X-Message-Id. */
async function publishSurely(subject: string, body: string, id: string): Promise<{ tries: number; ms: number }> {
  let slowest = 0;
  for (let tries = 1; ; tries++) {
    const res = await publish(subject, body, { 'x-message-id': id });
    slowest = Math.max(slowest, res.ms);
    if (res.status === 202) {
      if (res.json?.delivery !== 'durable') throw new Error(`${subject} published ${res.json?.delivery}, not durable: ${res.text}`);
      return { tries, ms: slowest };
    }
    if (tries > 80) throw new Error(`message ${id} not accepted: ${res.status} ${res.text}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('durable topics', () => {
  const durable = fn('evdur');

  it('lose no message of 1,000 while the connector is killed and NATS restarted', async () => {
    created.push(durable);
    // 100 ms per message, 20 at a time: some twenty messages are in the connector's hands at any moment.
    await deployRecorder(durable, { annotations: { topic: 'evt.durable', 'topic-delivery': 'durable' }, delayMs: 100, labels: { 'com.openfaas.async.max-inflight': '20' } });
    const [first] = await connectors();
    await waitFor('the durable subscription', async () => (metricSum(await connectorMetrics(first!), 'events_subscriptions{subject="evt.durable",delivery="durable"}') === 1 ? true : undefined), 30_000, 250);
    // The stream captures the subject once the connector has made the consumer.
    await waitFor('a durable publish', async () => ((await publish('evt.durable', 'warm-up', { 'x-message-id': `warm-${Date.now()}` })).json?.delivery === 'durable' ? true : undefined), 30_000, 250);

    const total = 1_000;
    const run = `dur-${Date.now()}`;
    const accepted = new Set<string>();
    let retried = 0;
    let slowest = 0;
    const events: string[] = [];
    const started = Date.now();
    const at = (share: number) => waitFor(`${share * 100} % accepted`, async () => (accepted.size >= share * total ? true : undefined), 180_000, 100);
    const faults = (async () => {
      await at(0.2);
      const [connector] = await connectors();
      await docker('kill', connector!);
      events.push(`connector killed at ${((Date.now() - started) / 1000).toFixed(1)} s`);
      await at(0.5);
      await killNats((what) => events.push(`${what} at ${((Date.now() - started) / 1000).toFixed(1)} s`));
    })();
    let next = 0;
    const sender = async () => {
      while (next < total) {
        const i = next++;
        const result = await publishSurely('evt.durable', `${run}-${i}`, `${run}-${i}`);
        retried += result.tries - 1;
        slowest = Math.max(slowest, result.ms);
        accepted.add(`${run}-${i}`);
        await new Promise((r) => setTimeout(r, 80));
      }
    };
    await Promise.all(Array.from({ length: 10 }, sender));
    const acceptedIn = Date.now() - started;
    await faults;

    let got: Record[] = [];
    await waitFor('every message invoked', async () => {
      got = (await records(durable)).filter((r) => r.body.startsWith(run));
      return new Set(got.map((r) => r.body)).size >= total ? true : undefined;
    }, 240_000, 1_000).catch(() => undefined);
    const distinct = new Set(got.map((r) => r.body));
    const lost = [...accepted].filter((id) => !distinct.has(id));
    const duplicates = got.length - distinct.size;
    const lastAt = Math.max(...got.map((r) => r.at));
    report(`durable: ${total} messages accepted in ${(acceptedIn / 1000).toFixed(1)} s (${retried} publishes answered 503 while NATS restarted and tried again with the same X-Message-Id; slowest answer ${slowest} ms); ${events.join(', ')}`);
    report(`durable: ${distinct.size} of ${total} invoked, ${lost.length} lost, ${duplicates} duplicates (at-least-once), last at ${((lastAt - started) / 1000).toFixed(1)} s`);
    expect(lost).toEqual([]);
    expect(distinct.size).toBe(total);
    // A publish never waits long, not even while NATS restarts (it says 503 at once).
    expect(slowest).toBeLessThan(5_000);
  }, 600_000);
});

describe('schedules', () => {
  const ticking = fn('evcron');

  it('run a 6-field schedule every 2 s the expected number of times, never twice a tick with two connectors', async () => {
    const service = fn('connector');
    await docker('service', 'scale', '--detach', `${service}=2`);
    try {
      const both = await waitFor('two connectors answering', async () => {
        const ids = await connectors();
        if (ids.length !== 2) return undefined;
        for (const id of ids) if (!(await docker('exec', id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/healthz').catch(() => '')).startsWith('OK')) return undefined;
        return ids;
      }, 90_000, 500);
      created.push(ticking);
      await deployRecorder(ticking, { annotations: { topic: 'cron-function', schedule: '*/2 * * * * *' } });
      // From the first tick on, 20 s.
      const first = await waitFor('the first tick', async () => {
        const ticks = (await records(ticking)).filter((r) => r.scheduledAt);
        return ticks.length > 0 ? Date.parse(ticks[0]!.scheduledAt!) : undefined;
      }, 30_000, 250);
      await new Promise((r) => setTimeout(r, first + 20_000 - Date.now() + 3_000));
      // The window starts at the earliest tick recorded: the first to arrive may not be the first scheduled
      // (the function's first call after its deploy waits for its task to be ready).
      const all = (await records(ticking)).filter((r) => r.scheduledAt);
      const start = Math.min(...all.map((t) => Date.parse(t.scheduledAt!)));
      const windowEnd = start + 20_000;
      const ticks = all.filter((r) => Date.parse(r.scheduledAt!) < windowEnd);
      const perTick = new Map<string, number>();
      for (const t of ticks) perTick.set(t.scheduledAt!, (perTick.get(t.scheduledAt!) ?? 0) + 1);
      const twice = [...perTick].filter(([, n]) => n > 1);
      // Lateness in steady state: after the first tick, whose call may have waited for the new task.
      const late = ticks.filter((t) => Date.parse(t.scheduledAt!) > start).map((t) => t.at - Date.parse(t.scheduledAt!));
      const published = [];
      for (const id of both) published.push(metricSum(await connectorMetrics(id).catch(() => ''), `events_schedule_ticks_total{function_name="${ticking}"}`));
      report(`schedule */2 * * * * * with two connectors: ${perTick.size} ticks in 20 s (expected 10), ${twice.length} run twice; ticks published by the connectors: ${published.join(' and ')}; invoked ${Math.min(...late)}-${Math.max(...late)} ms after the tick`);
      expect(twice).toEqual([]);
      expect(perTick.size).toBe(10);
      for (const [tick] of perTick) expect(new Date(tick).getUTCSeconds() % 2).toBe(0);
      // Both replicas published the ticks; each was run once.
      expect(Math.min(...published)).toBeGreaterThan(0);
      expect(Math.max(...late)).toBeLessThan(2_000);
    } finally {
      await docker('service', 'scale', '--detach', `${service}=1`);
      await waitFor('one connector again', async () => ((await connectors()).length === 1 ? true : undefined), 60_000, 500);
      await removeFunction(ticking);
    }
  }, 240_000);
});

describe('queue-depth autoscaling', () => {
  const burst = fn('evqueue');
  const sink = fn('evqsink');

  it('takes a function at 0 replicas to N on a burst of 500 messages and back to 0, losing none', async () => {
    created.push(burst, sink);
    // Its replicas forward what they get to one sink, which the test reads.
    await deploySink(sink);
    const labels = {
      'com.openfaas.scale.type': 'queue',
      'com.openfaas.scale.target': '10',
      'com.openfaas.scale.max': '4',
      'com.openfaas.scale.zero': 'true',
      'com.openfaas.scale.zero-duration': '10s',
      'com.openfaas.async.max-inflight': '8',
    };
    // Not waited for: with an empty queue it goes to 0 after its idle time, ready or not (on a loaded machine its first start may take longer).
    const deployed = await systemFetch('/system/functions', {
      method: 'POST',
      body: JSON.stringify(recorderSpec(burst, { annotations: { topic: 'evt.burst', 'topic-delivery': 'durable' }, delayMs: 150, labels, forwardTo: sink })),
    });
    expect(deployed.status).toBe(202);
    await waitFor('a durable publish', async () => ((await publish('evt.burst', 'warm-up', { 'x-message-id': `warm-${Date.now()}` })).json?.delivery === 'durable' ? true : undefined), 30_000, 250);
    // Asleep before the burst (it goes to 0 by itself after 10 s of an empty queue).
    await waitFor(`${burst} at 0`, async () => ((await replicasOf(burst)) === 0 && (await containersOf(burst)).length === 0 ? true : undefined), 90_000, 500);

    const total = 500;
    const run = `q-${Date.now()}`;
    let most = 0;
    let firstReplicaAt: number | undefined;
    let drainedAt: number | undefined;
    let zeroAt: number | undefined;
    const started = Date.now();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const replicas = await replicasOf(burst).catch(() => -1);
        if (replicas > 0 && firstReplicaAt === undefined) firstReplicaAt = Date.now();
        most = Math.max(most, replicas);
        if (drainedAt !== undefined && replicas === 0 && zeroAt === undefined) zeroAt = Date.now();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < total) {
          const i = next++;
          await publishSurely('evt.burst', `${run}-${i}`, `${run}-${i}`);
        }
      }),
    );
    const publishedIn = Date.now() - started;
    let got: Record[] = [];
    await waitFor('the burst drained', async () => {
      got = (await records(sink).catch(() => got)).filter((r) => r.body.startsWith(run));
      return new Set(got.map((r) => r.body)).size >= total ? true : undefined;
    }, 180_000, 500).catch(() => undefined);
    drainedAt = Date.now();
    await waitFor(`${burst} back at 0`, async () => (zeroAt !== undefined ? true : undefined), 120_000, 500).catch(() => undefined);
    watching = false;
    await watcher;
    const lost = total - new Set(got.map((r) => r.body)).size;
    const s = (t: number | undefined) => (t === undefined ? 'never' : `${((t - started) / 1000).toFixed(1)} s`);
    report(`queue scaling, 500 messages published in ${(publishedIn / 1000).toFixed(1)} s to a function at 0 (target 10 per replica, max 4): first replica at ${s(firstReplicaAt)}, most replicas ${most}, drained at ${s(drainedAt)}, back to 0 at ${s(zeroAt)}, messages lost ${lost}`);
    expect(lost).toBe(0);
    expect(firstReplicaAt! - started).toBeLessThan(3_000);
    expect(most).toBe(4);
    expect(zeroAt).toBeDefined();

    // The decisions, by reason, as Prometheus sees them.
    const decisions = await waitFor('the queue decisions in Prometheus', async () => {
      const res = await monitoringFetch('prometheus', `/api/v1/query?query=${encodeURIComponent(`sum by (event) (gateway_scaling_decisions_total{function_name="${burst}",reason="queue"})`)}`);
      const rows = ((await res.json()) as { data: { result: Array<{ metric: { event: string }; value: [number, string] }> } }).data.result;
      return rows.some((r) => r.metric.event === 'zero') ? rows : undefined;
    }, 30_000, 1_000);
    // Up from 0 is a 'wake' (straight to 4 when the first look already saw the burst), then maybe 'up'; down ends in 'zero'.
    const events = decisions.map((r) => r.metric.event);
    expect(events).toContain('zero');
    expect(events.filter((e) => e === 'wake' || e === 'up'), `decisions ${events.join(', ')}`).not.toEqual([]);
    const pending = await monitoringFetch('prometheus', `/api/v1/query?query=${encodeURIComponent(`max_over_time(max(gateway_function_pending_messages{function_name="${burst}"})[5m:5s])`)}`);
    const peak = Number(((await pending.json()) as { data: { result: Array<{ value: [number, string] }> } }).data.result[0]?.value[1] ?? 0);
    report(`queue scaling: the largest backlog Prometheus saw ${peak}; decisions ${decisions.map((r) => `${r.metric.event} ${r.value[1]}`).join(', ')}`);
    expect(peak).toBeGreaterThan(0);
    expect((await fetch(gatewayUrl('/healthz'))).status).toBe(200);
  }, 400_000);
});
