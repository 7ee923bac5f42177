#!/usr/bin/env node
// What the triggers pay for not having the Docker socket (they learn the
// functions from the gateways through NATS, and ask the gateways to wake a
// function), measured in one run against one or two deployed stacks:
//   1. deploy -> live subscription: from the deploy's 202 to the first topic
//      message that reaches the function (a message is published every 25 ms
//      from the deploy on; those before the subscription are lost, as
//      at-most-once messages are);
//   2. a wake from zero through the queue: a function asleep at 0 replicas
//      gets one asynchronous call; from its 202 to the call reaching the
//      function.
// With BEFORE_URL (a stack of an earlier version, e.g. deployed from a
// worktree of the commit before the change) both stacks are measured in
// turns, and the table puts them side by side.
//
//   GATEWAY_URL=http://127.0.0.1:8080 [BEFORE_URL=http://127.0.0.1:18480] node bench/triggers.mjs
//
// Environment: GATEWAY_URL, BEFORE_URL, GATEWAY_AUTH ("user:password", both
// stacks), STACK_NAME and BEFORE_STACK (name the functions), BENCH_ROUNDS [5].
// Writes bench/results/triggers.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auth, fmt, httpFunction, KEEPER_JS, percentile, root, sleep, watchdogImage } from './_support.mjs';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const stacks = [
  { label: 'after', url: (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, ''), stack: process.env.STACK_NAME || 'tr' },
  ...(process.env.BEFORE_URL ? [{ label: 'before', url: process.env.BEFORE_URL.replace(/\/$/, ''), stack: process.env.BEFORE_STACK || 'trb' }] : []),
];

async function api(base, method, path, json) {
  const res = await fetch(`${base}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: json === undefined ? undefined : JSON.stringify(json) });
  return { status: res.status, text: await res.text() };
}

async function waitFor(what, probe, timeoutMs = 120_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

const keptBy = async (base, fn) => {
  const res = await fetch(`${base}/function/${fn}/calls`, { signal: AbortSignal.timeout(10_000) });
  return res.status === 200 ? res.json() : undefined;
};

/** 1. From the deploy's 202 to the first topic message at the function. */
async function deployToSubscription(s, round) {
  const fn = `${s.stack}_trsub${round}`;
  const subject = `bench-${s.stack}.sub${round}`;
  await api(s.url, 'DELETE', '/system/functions', { functionName: fn });
  const deployed = await api(s.url, 'POST', '/system/functions', httpFunction(fn, KEEPER_JS, { annotations: { topic: subject }, labels: { 'com.openfaas.scale.max': '1' } }));
  if (deployed.status !== 202) throw new Error(`deploy ${fn}: ${deployed.status} ${deployed.text}`);
  const at = Date.now();
  let n = 0;
  let stop = false;
  const publisher = (async () => {
    while (!stop) {
      await fetch(`${s.url}/system/events/${subject}`, { method: 'POST', headers: auth, body: `${n++} ${Date.now()}` }).catch(() => undefined);
      await sleep(25);
    }
  })();
  try {
    const first = await waitFor('a message at the function', async () => {
      const rows = await keptBy(s.url, fn);
      return rows?.length ? rows : undefined;
    });
    const sentAt = Math.min(...first.map(([body]) => Number(String(body).split(' ')[1])));
    return sentAt - at;
  } finally {
    stop = true;
    await publisher;
    await api(s.url, 'DELETE', '/system/functions', { functionName: fn });
  }
}

/** 2. From the 202 of an asynchronous call to a sleeping function to the call at the function. */
async function wakeThroughQueue(s, round) {
  const fn = `${s.stack}_trwake`;
  if (round === 0) {
    await api(s.url, 'DELETE', '/system/functions', { functionName: fn });
    const deployed = await api(s.url, 'POST', '/system/functions', httpFunction(fn, KEEPER_JS, { labels: { 'com.openfaas.scale.zero': 'true', 'com.openfaas.scale.max': '1' } }));
    if (deployed.status !== 202) throw new Error(`deploy ${fn}: ${deployed.status} ${deployed.text}`);
  }
  await waitFor(`${fn} scaled to 0`, async () => {
    const scaled = await api(s.url, 'POST', `/system/scale-function/${fn}`, { serviceName: fn, replicas: 0 });
    const status = JSON.parse((await api(s.url, 'GET', `/system/function/${fn}`)).text);
    return scaled.status < 300 && status.replicas === 0 && status.availableReplicas === 0 ? true : undefined;
  }, 120_000, 500);
  // Let the zero settle (the old task gone from every view).
  await sleep(3_000);
  const accepted = await fetch(`${s.url}/async-function/${fn}`, { method: 'POST', body: `wake ${round}` });
  if (accepted.status !== 202) throw new Error(`async call: ${accepted.status}`);
  const at = Date.now();
  // Only the system API until the queue has woken it: a call to the function would wake it itself.
  await waitFor(`${fn} woken`, async () => (JSON.parse((await api(s.url, 'GET', `/system/function/${fn}`)).text).availableReplicas > 0 ? true : undefined), 120_000, 100);
  const rows = await waitFor('the call at the woken function', async () => {
    const kept = await keptBy(s.url, fn);
    return kept?.find(([body]) => body === `wake ${round}`) ? kept : undefined;
  });
  return rows.find(([body]) => body === `wake ${round}`)[1] - at;
}

const results = {};
for (const s of stacks) results[s.label] = { subscription: [], wake: [] };
for (let round = 0; round < rounds; round++) {
  for (const s of stacks) {
    results[s.label].subscription.push(await deployToSubscription(s, round));
    results[s.label].wake.push(await wakeThroughQueue(s, round));
    console.log(`[bench triggers] ${s.label} round ${round + 1}: subscription live after ${results[s.label].subscription.at(-1)} ms, woken through the queue in ${results[s.label].wake.at(-1)} ms`);
  }
}
for (const s of stacks) await api(s.url, 'DELETE', '/system/functions', { functionName: `${s.stack}_trwake` });

const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), max: sorted.at(-1), values };
};
const table = Object.entries(results).map(([label, r]) => ({ stack: label, 'deploy -> subscription p50 ms': fmt(summary(r.subscription).p50), 'max ms': fmt(summary(r.subscription).max), 'wake via queue p50 ms': fmt(summary(r.wake).p50), 'max ms ': fmt(summary(r.wake).max) }));
console.table(table);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'triggers.json'), JSON.stringify({ image: watchdogImage, results: Object.fromEntries(Object.entries(results).map(([k, r]) => [k, { subscription: summary(r.subscription), wake: summary(r.wake) }])) }, null, 2));
