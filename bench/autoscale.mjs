#!/usr/bin/env node
// Autoscaling through the real Prometheus and AlertManager of a deployed
// stack, and waking from zero. Measures the targets:
//   - first scale-up within 10 s of the load starting
//   - replicas never drop while the load lasts
//   - back at the minimum within 40 s of the load stopping
//   - zero failed requests across scale-up and scale-down
//   - wake from zero to the first byte within 3 s (image present)
//
//   GATEWAY_URL=http://127.0.0.1:8080 node bench/autoscale.mjs
//
// Environment: GATEWAY_URL [http://127.0.0.1:8080]; GATEWAY_AUTH ("user:password"
// when the gateway has basic auth); STACK_NAME [func] (the load goes to
// <stack>_echoit, which must be at its minimum of 1 replica);
// BENCH_RATE requests/s of the load [25]; BENCH_LOAD_SECONDS [40];
// BENCH_TRICKLE_RATE requests/s kept up during the scale-down [0.5] (below
// the 1/s under which repeated alerts stop stepping up), so that requests
// lost while tasks are removed would show; BENCH_WAKES wake-ups measured [3].
//
// The load is paced (open loop: a slow answer does not slow it), modest on
// purpose (two shared cores), and bounded in count and time. The wake-up part
// deploys <stack>_scbench-wake (the stack's echoit image, labelled
// com.openfaas.scale.zero=true), sleeps it with POST /system/scale-function
// {replicas: 0}, times the first byte of the next request, and removes it.
// Prints a table and writes bench/results/autoscale.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleReplicas } from './_support.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const gateway = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
const auth = process.env.GATEWAY_AUTH ? { authorization: `Basic ${Buffer.from(process.env.GATEWAY_AUTH).toString('base64')}` } : {};
const stack = process.env.STACK_NAME || 'func';
const echoit = `${stack}_echoit`;
const wakeName = `${stack}_scbench-wake`;
const rate = Number(process.env.BENCH_RATE ?? 25);
const loadSeconds = Number(process.env.BENCH_LOAD_SECONDS ?? 40);
const trickleRate = Number(process.env.BENCH_TRICKLE_RATE ?? 0.5);
const wakes = Number(process.env.BENCH_WAKES ?? 3);
const body = 'Hello, Function as a Service';

const TARGET = { firstScaleUpSeconds: 10, backAtMinSeconds: 40, failedRequests: 0, wakeFirstByteSeconds: 3 };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const now = () => performance.now() / 1000;

async function system(method, path, json) {
  const res = await fetch(`${gateway}${path}`, {
    method,
    headers: { ...auth, 'content-type': 'application/json' },
    body: json === undefined ? undefined : JSON.stringify(json),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, text, json: () => JSON.parse(text) };
}

async function state(name) {
  const res = await system('GET', `/system/function/${name}`);
  if (res.status !== 200) throw new Error(`GET /system/function/${name}: ${res.status} ${res.text}`);
  const { replicas, availableReplicas, labels } = res.json();
  return { replicas, availableReplicas, labels };
}

async function waitFor(what, probe, timeoutMs, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== false) return value;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

/** Paced invocations of `name` at `perSecond` for at most `seconds`, until `stop` aborts. */
async function paced(name, perSecond, seconds, stop) {
  const result = { sent: 0, ok: 0, failures: {} };
  const fail = (key) => (result.failures[key] = (result.failures[key] ?? 0) + 1);
  const total = Math.round(perSecond * seconds);
  const started = performance.now();
  const inFlight = new Set();
  for (let i = 0; i < total && !stop?.aborted; i++) {
    const wait = started + (i * 1000) / perSecond - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= 64) await Promise.race(inFlight);
    result.sent++;
    const request = fetch(`${gateway}/function/${name}`, { method: 'POST', body, signal: AbortSignal.timeout(15_000) })
      .then(async (res) => {
        const text = await res.text();
        if (res.ok && text === body) result.ok++;
        else fail(res.ok ? `${res.status} wrong body` : `${res.status} ${text.slice(0, 60)}`);
      })
      .catch((error) => fail(error.name === 'TimeoutError' ? 'timeout' : `${error.name}: ${error.cause?.message ?? error.message}`))
      .finally(() => inFlight.delete(request));
    inFlight.add(request);
  }
  await Promise.all(inFlight);
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

// Part 1: load -> scale up -> stop -> scale down ---------------------------------------
async function autoscale() {
  console.log(`[autoscale] waiting for ${echoit} to rest at 1 ready replica`);
  await waitFor(`${echoit} at 1 ready replica`, async () => {
    const s = await state(echoit);
    return s.replicas === 1 && s.availableReplicas === 1;
  }, 120_000);
  // A counter Prometheus has never scraped needs two scrapes before rate() has a
  // value: invoke once and let two 5 s scrapes pass, as for a function in use.
  const warm = await fetch(`${gateway}/function/${echoit}`, { method: 'POST', body });
  if (!warm.ok) throw new Error(`warm-up invocation of ${echoit} answered ${warm.status}`);
  await warm.text();
  await sleep(12_000);

  console.log(`[autoscale] load: ${rate} requests/s for ${loadSeconds} s on ${echoit}`);
  const origin = now();
  const sampler = sampleReplicas(() => state(echoit), origin * 1000, 500);
  const { samples } = sampler;

  const load = await paced(echoit, rate, loadSeconds);
  const loadStopped = now() - origin;
  const trickleStop = new AbortController();
  const trickle = paced(echoit, trickleRate, 120, trickleStop.signal);
  let backAtMin;
  try {
    const back = await waitFor('echoit back at 1 replica', async () => {
      const last = samples.at(-1);
      return last && last.t > loadStopped && last.replicas === 1 ? last : undefined;
    }, 120_000, 250);
    backAtMin = samples.find((s) => s.t > loadStopped && s.replicas === 1)?.t ?? back.t;
    await sleep(5_000); // removed tasks stop while the trickle goes on
  } finally {
    trickleStop.abort();
    await sampler.stop();
  }
  const trickled = await trickle;

  const during = samples.filter((s) => s.t <= loadStopped);
  const firstUp = during.find((s) => s.replicas > 1);
  let largestDrop = 0;
  for (let i = 1; i < during.length; i++) largestDrop = Math.max(largestDrop, during[i - 1].replicas - during[i].replicas);
  const timeline = samples.filter((s, i) => i === 0 || s.replicas !== samples[i - 1].replicas || s.ready !== samples[i - 1].ready);
  const failures = Object.values(load.failures).reduce((a, b) => a + b, 0) + Object.values(trickled.failures).reduce((a, b) => a + b, 0);
  return {
    rate,
    loadSeconds: +load.seconds.toFixed(1),
    requests: load.sent + trickled.sent,
    failedRequests: failures,
    failures: { load: load.failures, scaleDown: trickled.failures },
    firstScaleUpSeconds: firstUp ? +firstUp.t.toFixed(1) : null,
    maxReplicas: Math.max(...samples.map((s) => s.replicas)),
    largestDropDuringLoad: largestDrop,
    backAtMinSeconds: backAtMin === undefined ? null : +(backAtMin - loadStopped).toFixed(1),
    timeline: timeline.map((s) => ({ t: +s.t.toFixed(1), replicas: s.replicas, ready: s.ready })),
  };
}

// Part 2: wake from zero ---------------------------------------------------------------
async function wakeFromZero() {
  const image = (await system('GET', `/system/function/${echoit}`)).json().image;
  await system('DELETE', '/system/functions', { functionName: wakeName });
  await waitFor(`old ${wakeName} gone`, async () => (await system('GET', `/system/function/${wakeName}`)).status === 404, 60_000);
  const deployed = await system('POST', '/system/functions', {
    service: wakeName,
    image,
    labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.zero-duration': '10m' },
  });
  if (deployed.status !== 202) throw new Error(`deploying ${wakeName}: ${deployed.status} ${deployed.text}`);
  const seconds = [];
  try {
    await waitFor(`${wakeName} ready`, async () => (await state(wakeName)).availableReplicas === 1, 90_000);
    for (let i = 0; i < wakes; i++) {
      const slept = await system('POST', `/system/scale-function/${wakeName}`, { serviceName: wakeName, replicas: 0 });
      if (slept.status !== 202) throw new Error(`scaling ${wakeName} to 0: ${slept.status} ${slept.text}`);
      await waitFor(`${wakeName} asleep`, async () => {
        const s = await state(wakeName);
        return s.replicas === 0 && s.availableReplicas === 0;
      }, 60_000);
      await sleep(2_000); // the old task is gone for good
      const started = performance.now();
      const res = await fetch(`${gateway}/function/${wakeName}`, { method: 'POST', body: `wake ${i}`, signal: AbortSignal.timeout(60_000) });
      const firstByte = (performance.now() - started) / 1000; // fetch resolves on the answer's first bytes (headers)
      const text = await res.text();
      if (res.status !== 200 || text !== `wake ${i}`) throw new Error(`wake ${i}: ${res.status} ${text.slice(0, 100)}`);
      seconds.push(+firstByte.toFixed(2));
      console.log(`[autoscale] wake ${i + 1}/${wakes}: first byte after ${firstByte.toFixed(2)} s`);
    }
  } finally {
    await system('DELETE', '/system/functions', { functionName: wakeName }).catch(() => undefined);
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  return { wakes: seconds, medianSeconds: sorted[Math.floor(sorted.length / 2)], maxSeconds: sorted.at(-1) };
}

const parts = new Set((process.env.BENCH_PARTS ?? 'scaling,wake').split(',').map((p) => p.trim()));
const scaling = parts.has('scaling') ? await autoscale() : undefined;
const wake = parts.has('wake') ? await wakeFromZero() : undefined;

const rows = [
  ...(scaling ? [
  ['first scale-up after the load started', `${scaling.firstScaleUpSeconds ?? 'never'} s`, `<= ${TARGET.firstScaleUpSeconds} s`, scaling.firstScaleUpSeconds !== null && scaling.firstScaleUpSeconds <= TARGET.firstScaleUpSeconds],
  ['largest replica drop during the load', String(scaling.largestDropDuringLoad), '0', scaling.largestDropDuringLoad === 0],
  ['back at the minimum after the load stopped', `${scaling.backAtMinSeconds ?? 'never'} s`, `<= ${TARGET.backAtMinSeconds} s`, scaling.backAtMinSeconds !== null && scaling.backAtMinSeconds <= TARGET.backAtMinSeconds],
  ['failed requests (load and scale-down)', `${scaling.failedRequests} of ${scaling.requests}`, '0', scaling.failedRequests === 0],
  ] : []),
  ...(wake ? [[`wake from zero to first byte (median of ${wake.wakes.length})`, `${wake.medianSeconds} s (max ${wake.maxSeconds} s)`, `<= ${TARGET.wakeFirstByteSeconds} s`, wake.medianSeconds <= TARGET.wakeFirstByteSeconds]] : []),
];
if (scaling) console.log('\nReplica timeline (seconds from the load start; load stopped at %s s):', scaling.loadSeconds);
for (const s of scaling?.timeline ?? []) console.log(`  t=${String(s.t).padStart(5)} s  replicas ${String(s.replicas).padStart(2)}  ready ${s.ready}`);
const width = Math.max(...rows.map((r) => r[0].length));
console.log(`\n${'measure'.padEnd(width)}  ${'measured'.padEnd(22)}  ${'target'.padEnd(8)}  met`);
for (const [what, measured, target, met] of rows) console.log(`${what.padEnd(width)}  ${measured.padEnd(22)}  ${target.padEnd(8)}  ${met ? 'yes' : 'NO'}`);

mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(root, 'bench', 'results', 'autoscale.json'),
  JSON.stringify({ at: new Date().toISOString(), gateway, function: echoit, targets: TARGET, scaling, wake, met: Object.fromEntries(rows.map((r) => [r[0], r[3]])) }, null, 2),
);
console.log('\nwritten bench/results/autoscale.json');
