#!/usr/bin/env node
// Issue 25's measurement: a function doing 1 s of work, 20 concurrent
// clients (each one call after another) for 45 s, in up to three cases run
// one after another on the same stack:
//   capacity  com.openfaas.concurrency=2 and com.openfaas.scale.type=capacity:
//             calls beyond 2 per replica wait at the gateway, replicas follow
//             the calls in flight
//   limit     com.openfaas.concurrency=2 with today's rate scaling (alerts):
//             calls queue instead of the 429s the watchdog answered before
//   rate      no limit, rate scaling: today's behaviour, the reference
// Targets (capacity): 0 failed, 10 replicas within 5 s of the load starting,
// p50 under 1.2 s from the 10th second, back at the minimum after the stable
// window (CAPACITY_STABLE_WINDOW, 60 s by default).
//
//   GATEWAY_URL=http://127.0.0.1:8080 GATEWAY_AUTH=admin:PASSWORD node bench/concurrency.mjs
//
// Environment: GATEWAY_URL [http://127.0.0.1:8080], or GATEWAY_URLS (comma-
// separated: the clients take them in turn, as a load balancer in front of
// two gateways would); GATEWAY_AUTH ("user:password"); STACK_NAME [func]
// (the functions are <stack>_ccbench-<case>, made from the stack's echoit
// image, FAAS_TAG as the stack's); BENCH_CASES [capacity,rate];
// BENCH_CLIENTS [20]; BENCH_LOAD_SECONDS [45]; BENCH_SETTLE_SECONDS [150]
// (how long to wait for the function back at its minimum).
// Every load is bounded in time; the functions are removed at the end.
// Prints a table and writes bench/results/concurrency.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { percentile, root, sampleReplicas, sleep, system, until, version } from './_support.mjs';

const gateways = (process.env.GATEWAY_URLS ?? process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').split(',').map((u) => u.trim().replace(/\/$/, ''));
const gateway = gateways[0];
const stack = process.env.STACK_NAME || 'func';
const image = `${process.env.FAAS_REPO || 'swarmfaas'}/echoit:${process.env.FAAS_TAG || version}`;
const cases = (process.env.BENCH_CASES ?? 'capacity,rate').split(',').map((c) => c.trim()).filter(Boolean);
const clients = Number(process.env.BENCH_CLIENTS ?? 20);
const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? 45);
const settleSeconds = Number(process.env.BENCH_SETTLE_SECONDS ?? 150);

const LABELS = {
  capacity: { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.type': 'capacity', 'com.openfaas.scale.max': '20', 'com.openfaas.scale.min': '1' },
  limit: { 'com.openfaas.concurrency': '2', 'com.openfaas.scale.max': '20', 'com.openfaas.scale.min': '1' },
  rate: { 'com.openfaas.scale.max': '20', 'com.openfaas.scale.min': '1' },
};
const TARGET = { failed: 0, tenReplicasSeconds: 5, p50From10Seconds: 1.2 };

async function state(name) {
  const res = await system('GET', `/system/function/${name}`);
  if (res.status !== 200) throw new Error(`GET /system/function/${name}: ${res.status} ${res.text}`);
  return JSON.parse(res.text);
}

/** until() with a probe that answers true/false. */
const waitFor = (what, probe, timeoutMs, everyMs = 500) => until(what, async () => ((await probe()) ? true : undefined), timeoutMs, everyMs);

async function deploy(name, labels) {
  await system('DELETE', '/system/functions', { functionName: name });
  await waitFor(`${name} gone`, async () => (await system('GET', `/system/function/${name}`)).status === 404, 60_000);
  const res = await system('POST', '/system/functions', { service: name, image, envProcess: "sh -c 'sleep 1; cat'", labels });
  if (res.status !== 202) throw new Error(`deploy ${name}: ${res.status} ${res.text}`);
  await waitFor(`${name} answering`, async () => {
    const r = await fetch(`${gateway}/function/${name}`, { method: 'POST', body: 'warm', signal: AbortSignal.timeout(30_000) });
    return r.status === 200 && (await r.text()) === 'warm';
  }, 120_000);
  await waitFor(`${name} at 1 ready replica`, async () => {
    const s = await state(name);
    return s.replicas === 1 && s.availableReplicas === 1;
  }, 120_000);
}

async function run(kase) {
  const name = `${stack}_ccbench-${kase}`;
  console.log(`[concurrency] ${kase}: deploying ${name} (${JSON.stringify(LABELS[kase])})`);
  await deploy(name, LABELS[kase]);
  // A counter Prometheus has never scraped needs two scrapes before rate() has a value (the rate case's alert).
  await sleep(12_000);
  console.log(`[concurrency] ${kase}: ${clients} clients for ${loadSeconds} s on ${gateways.length} gateway(s)`);
  const origin = performance.now();
  const sampler = sampleReplicas(() => state(name), origin, 250);
  const { samples } = sampler;
  const calls = [];
  const end = origin + loadSeconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, id) => {
      const base = gateways[id % gateways.length];
      for (let n = 0; performance.now() < end; n++) {
        const started = performance.now();
        const body = `c${id}-${n}`;
        let status = 0;
        let text = '';
        try {
          const res = await fetch(`${base}/function/${name}`, { method: 'POST', body, signal: AbortSignal.timeout(90_000) });
          status = res.status;
          text = await res.text();
          if (status === 200 && text !== body) text = `wrong body ${text.slice(0, 40)}`;
        } catch (error) {
          text = String(error.cause?.message ?? error.message);
        }
        calls.push({ at: (started - origin) / 1000, ms: performance.now() - started, status, text: status === 200 && text === body ? '' : text.slice(0, 80) });
        // A refused call is tried again a moment later, as a client honouring Retry-After would (bounded by the load's end).
        if (status !== 200) await sleep(status === 429 ? 50 : 200);
      }
    }),
  );
  const loadEnded = (performance.now() - origin) / 1000;
  let backAtMin;
  try {
    await waitFor(`${name} back at 1 replica`, async () => {
      const last = samples.at(-1);
      return last && last.t > loadEnded && last.replicas === 1;
    }, settleSeconds * 1000, 500);
    backAtMin = samples.find((s) => s.t > loadEnded && s.replicas === 1).t - loadEnded;
  } catch (error) {
    console.log(`[concurrency] ${kase}: ${error.message}`);
  }
  await sampler.stop();
  await system('DELETE', '/system/functions', { functionName: name });

  const failures = {};
  for (const c of calls) if (c.status !== 200 || c.text) failures[`${c.status} ${c.text.slice(0, 50)}`] = (failures[`${c.status} ${c.text.slice(0, 50)}`] ?? 0) + 1;
  const all = calls.map((c) => c.ms / 1000).sort((a, b) => a - b);
  const late = calls.filter((c) => c.at >= 10 && c.status === 200).map((c) => c.ms / 1000).sort((a, b) => a - b);
  const changes = samples.filter((s, i) => i === 0 || s.replicas !== samples[i - 1].replicas);
  return {
    case: kase,
    labels: LABELS[kase],
    calls: calls.length,
    ok: calls.filter((c) => c.status === 200 && !c.text).length,
    failed: calls.length - calls.filter((c) => c.status === 200 && !c.text).length,
    failures,
    p50: percentile(all, 50),
    p50From10: percentile(late, 50),
    p90From10: percentile(late, 90),
    tenWanted: samples.find((s) => s.replicas >= 10)?.t,
    tenReady: samples.find((s) => s.ready >= 10)?.t,
    mostReplicas: Math.max(0, ...samples.map((s) => s.replicas)),
    backAtMin,
    steps: changes.map((s) => `${s.t.toFixed(1)}s:${s.replicas}`),
  };
}

const fixed = (v, d = 2) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
const results = [];
for (const kase of cases) {
  if (!LABELS[kase]) throw new Error(`unknown case ${kase} (capacity, limit, rate)`);
  results.push(await run(kase));
}

console.log(`\n1-second function, ${clients} clients for ${loadSeconds} s, ${gateways.length} gateway(s)`);
console.log('| case | calls | failed | p50 (all) | p50 from 10 s | p90 from 10 s | 10 replicas wanted | 10 ready | most replicas | back at min after the load |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results) {
  console.log(
    `| ${r.case} | ${r.calls} | ${r.failed} | ${fixed(r.p50)} s | ${fixed(r.p50From10)} s | ${fixed(r.p90From10)} s | ${r.tenWanted === undefined ? 'never' : `${fixed(r.tenWanted, 1)} s`} | ${r.tenReady === undefined ? 'never' : `${fixed(r.tenReady, 1)} s`} | ${r.mostReplicas} | ${r.backAtMin === undefined ? '–' : `${fixed(r.backAtMin, 1)} s`} |`,
  );
}
for (const r of results) {
  console.log(`${r.case}: replicas ${r.steps.join(' ')}`);
  if (r.failed) console.log(`${r.case}: failures ${JSON.stringify(r.failures)}`);
}
const capacity = results.find((r) => r.case === 'capacity');
if (capacity) {
  const met = capacity.failed === TARGET.failed && capacity.tenWanted !== undefined && capacity.tenWanted <= TARGET.tenReplicasSeconds && capacity.p50From10 < TARGET.p50From10Seconds;
  console.log(`targets (capacity: 0 failed, 10 replicas within ${TARGET.tenReplicasSeconds} s, p50 from 10 s < ${TARGET.p50From10Seconds} s): ${met ? 'met' : 'NOT met'}`);
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'concurrency.json'), JSON.stringify({ at: new Date().toISOString(), gateways: gateways.length, clients, loadSeconds, results }, null, 2));
