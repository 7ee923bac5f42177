#!/usr/bin/env node
// Asynchronous invocations, in one run against a deployed stack:
//   1. accepted per second: POST /async-function/<fn> (202 once NATS has the
//      call) against POST /function/<fn> (the function's answer), same
//      function, same connections, rounds alternating; and how fast the
//      queue worker then works the accepted calls off;
//   2. time from the 202 to the callback at low load (one call at a time,
//      about 20 per second): p50, p99; measured from the gateway taking the
//      call (its X-Start-Time, which the 202 carries; the 202 leaves once
//      NATS has stored the call) to the callback reaching the receiver;
//   3. the same under a burst of BENCH_BURST (5,000) calls sent at once
//      (64 connections): p50, p99, max, and when the last callback came.
//
//   GATEWAY_URL=http://127.0.0.1:8080 node bench/async.mjs
//
// Environment: that of _support.mjs (the gateway, the rounds); STACK_NAME
// (names the functions <stack>_asbench and <stack>_asbenchcb; default "as");
// BENCH_BURST [5000].
//
// The function is the watchdog's HTTP mode in front of a small echo server,
// pinned to one task; the callback receiver is a function on the stack's
// network that keeps each callback's arrival time (the host's clock: the
// containers share it), read back through the gateway. Both are removed at
// the end. Prints a table and writes bench/results/async.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auth, countedLoad, ECHO_JS, fmt, gateway, watchdogImage, httpFunction, KEEPER_JS, kept, percentile, root, roundSettings, sleep, system, until } from './_support.mjs';

const stack = process.env.STACK_NAME || 'as';
const fn = `${stack}_asbench`;
const receiver = `${stack}_asbenchcb`;
const { duration, rounds, connections, lowCount } = roundSettings;
const burstCount = Number(process.env.BENCH_BURST ?? 5000);
const body = 'Hello, Function as a Service';
const callbackUrl = `http://${receiver}:8080/cb`;

const pinned = { 'com.openfaas.scale.zero': 'false', 'com.openfaas.scale.max': '1' };
const functions = [httpFunction(fn, ECHO_JS, { labels: { ...pinned, 'com.openfaas.async.max-inflight': '32' } }), httpFunction(receiver, KEEPER_JS, { labels: pinned })];

/** The callbacks the receiver kept: [call id, arrival ms]. */
async function received(from = 0) {
  return (await kept(receiver, from)).map(([, at, id]) => [id, at]);
}

/** Callbacks for every id in `sent` (a Map id -> time of its 202); answers their latencies in ms. */
async function latencies(sent, timeoutMs) {
  const arrived = new Map();
  let offset = 0;
  await until(`callbacks of ${sent.size} calls`, async () => {
    const rows = await received(offset);
    offset += rows.length;
    for (const [id, at] of rows) if (sent.has(id) && !arrived.has(id)) arrived.set(id, at);
    return arrived.size === sent.size ? true : undefined;
  }, timeoutMs, 500);
  const values = [...arrived].map(([id, at]) => at - sent.get(id)).sort((a, b) => a - b);
  return { values, last: Math.max(...arrived.values()) };
}

async function queued() {
  const res = await system('GET', '/system/async/queues');
  const row = JSON.parse(res.text).find((r) => r.name === fn);
  return row ? row.queued : 0;
}


async function asyncCall(id) {
  const res = await fetch(`${gateway}/async-function/${fn}`, { method: 'POST', body, headers: { 'x-call-id': id, 'x-callback-url': callbackUrl }, signal: AbortSignal.timeout(30_000) });
  await res.arrayBuffer();
  // The gateway's own clock of when it took the call (X-Start-Time, Unix ns): the bench's event loop
  // may see the 202 after the callback has already come, under a burst.
  const start = res.headers.get('x-start-time');
  return { status: res.status, at: start ? Number(BigInt(start) / 1_000_000n) : Date.now() };
}


async function main() {
  console.log(`[bench async] gateway ${gateway}, function ${fn} (${watchdogImage}, HTTP mode), receiver ${receiver}`);
  // Calls a run that was stopped left queued would come back to this one.
  await system('DELETE', `/system/async/queues/${fn}`);
  for (const f of functions) {
    await system('DELETE', '/system/functions', { functionName: f.service });
    const res = await system('POST', '/system/functions', f);
    if (res.status !== 202) throw new Error(`deploy ${f.service}: ${res.status} ${res.text}`);
  }
  await until(`${fn} answering`, async () => ((await fetch(`${gateway}/function/${fn}`, { method: 'POST', body })).status === 200 ? true : undefined));
  await until(`${receiver} answering`, async () => ((await fetch(`${gateway}/function/${receiver}/ok`)).status === 200 ? true : undefined));
  // The worker resolves the receiver's name a moment after its task runs: until one call comes back.
  await until('a first callback', async () => {
    const id = `warm-${Date.now()}`;
    await asyncCall(id);
    await sleep(1_500);
    return (await received()).some(([got]) => got === id) ? true : undefined;
  }, 90_000, 0);

  try {
    // 1. Accepted per second against synchronous calls, rounds alternating; the queue drained between rounds.
    const slice = duration / rounds;
    const pooled = { sync: { ok: 0, errors: 0 }, async: { ok: 0, errors: 0 } };
    const drains = [];
    for (let round = 0; round < rounds; round++) {
      for (const key of round % 2 === 0 ? ['sync', 'async'] : ['async', 'sync']) {
        const url = key === 'sync' ? `${gateway}/function/${fn}` : `${gateway}/async-function/${fn}`;
        const started = Date.now();
        const r = await countedLoad(url, slice, key === 'sync' ? 200 : 202, body);
        pooled[key].ok += r.ok;
        pooled[key].errors += r.errors;
        if (key === 'async') {
          await until('the queue worked off', async () => ((await queued()) === 0 ? true : undefined), 300_000, 200);
          drains.push({ calls: r.ok, seconds: (Date.now() - started) / 1000 });
        }
      }
    }
    const syncRps = pooled.sync.ok / duration;
    const acceptRps = pooled.async.ok / duration;
    const workedOff = drains.reduce((s, d) => s + d.calls, 0) / drains.reduce((s, d) => s + d.seconds, 0);

    // 2. Low load: one call at a time, about 20 per second.
    const low = new Map();
    for (let i = 0; i < lowCount; i++) {
      const id = `low-${Date.now()}-${i}`;
      const r = await asyncCall(id);
      if (r.status === 202) low.set(id, r.at);
      await sleep(50);
    }
    const lowLat = await latencies(low, 60_000);

    // 3. A burst, 64 at a time.
    const burst = new Map();
    let next = 0;
    let refused = 0;
    const burstStart = Date.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < burstCount) {
          const id = `burst-${burstStart}-${next++}`;
          const r = await asyncCall(id).catch(() => ({ status: 0 }));
          if (r.status === 202) burst.set(id, r.at);
          else refused++;
        }
      }),
    );
    const burstAccepted = (Date.now() - burstStart) / 1000;
    const burstLat = await latencies(burst, 600_000);
    const burstAll = (burstLat.last - burstStart) / 1000;

    const result = {
      at: new Date().toISOString(),
      connections,
      accept: { syncRps, acceptRps, ratio: acceptRps / syncRps, workedOffPerSecond: workedOff, errors: { sync: pooled.sync.errors, async: pooled.async.errors } },
      low: { calls: low.size, p50: percentile(lowLat.values, 50), p99: percentile(lowLat.values, 99), max: lowLat.values.at(-1) },
      burst: {
        calls: burst.size,
        refused,
        acceptedInSeconds: burstAccepted,
        acceptRps: burst.size / burstAccepted,
        lastCallbackAfterSeconds: burstAll,
        p50: percentile(burstLat.values, 50),
        p99: percentile(burstLat.values, 99),
        max: burstLat.values.at(-1),
      },
    };
    console.log(`\n${connections} connections, ${duration} s per case in ${rounds} rounds:`);
    console.log('measure | figure');
    console.log(`synchronous invocations /s | ${fmt(syncRps)}`);
    console.log(`async calls accepted (202) /s | ${fmt(acceptRps)} (${fmt(result.accept.ratio, 2)} x synchronous)`);
    console.log(`accepted calls worked off by the queue worker /s | ${fmt(workedOff)}`);
    console.log(`202 -> callback, low load (${low.size} calls, ~20/s) | p50 ${fmt(result.low.p50)} ms, p99 ${fmt(result.low.p99)} ms, max ${fmt(result.low.max)} ms`);
    console.log(`burst of ${burst.size} (64 at a time) | accepted in ${fmt(burstAccepted, 1)} s (${fmt(result.burst.acceptRps)}/s, ${refused} refused); last callback ${fmt(burstAll, 1)} s after the first call`);
    console.log(`202 -> callback, burst | p50 ${fmt(result.burst.p50)} ms, p99 ${fmt(result.burst.p99)} ms, max ${fmt(result.burst.max)} ms`);
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'async.json'), JSON.stringify(result, null, 2));
  } finally {
    await system('DELETE', `/system/async/queues/${fn}`).catch(() => undefined);
    for (const f of functions) await system('DELETE', '/system/functions', { functionName: f.service }).catch(() => undefined);
  }
}

main().catch((error) => {
  console.error(`[bench async] failed: ${error.stack ?? error}`);
  for (const f of functions) void system('DELETE', '/system/functions', { functionName: f.service }).catch(() => undefined);
  process.exitCode = 1;
});
