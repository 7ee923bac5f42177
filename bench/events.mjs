#!/usr/bin/env node
// Event-driven functions, in one run against a deployed stack:
//   1. messages per second through the connector into a function against
//      direct synchronous invocations of the same function: the same
//      connections POST /function/<fn> (the function's answer) and POST
//      /system/events/<subject> (202 once NATS has the message), rounds
//      alternating; the connector's invocations per second are counted in the
//      function (first to last arrival), for an at-most-once subject and a
//      durable one (which is drained after each round);
//   2. time from publish to invocation at low load (one message at a time,
//      about 20 per second): p50, p99, from the bench sending the POST to the
//      function getting the message (the host's clock: the containers share
//      it), with a synchronous call's time to the function beside it.
//
//   GATEWAY_URL=http://127.0.0.1:8080 node bench/events.mjs
//
// Environment: that of _support.mjs (the gateway, the rounds; BENCH_LOW
// messages per case); STACK_NAME (names the functions <stack>_evbench and
// <stack>_evbenchd; default "ev").
//
// The functions are the watchdog's HTTP mode in front of a small server that
// keeps each request's body and arrival time, pinned to one task; both are
// removed at the end. Prints a table and writes bench/results/events.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { auth, countedLoad, fmt, gateway, watchdogImage, httpFunction, KEEPER_JS, kept as calls, percentile, root, roundSettings, sleep, system, until } from './_support.mjs';

const stack = process.env.STACK_NAME || 'ev';
const amo = `${stack}_evbench`;
const dur = `${stack}_evbenchd`;
const { duration, rounds, connections, lowCount } = roundSettings;
const subjects = { [amo]: `bench-${stack}.amo`, [dur]: `bench-${stack}.dur` };

const labels = { 'com.openfaas.scale.zero': 'false', 'com.openfaas.scale.max': '1', 'com.openfaas.scale.factor': '0', 'com.openfaas.async.max-inflight': String(connections) };
const spec = (service, annotations) => httpFunction(service, KEEPER_JS, { labels, annotations });
const functions = [spec(amo, { topic: subjects[amo] }), spec(dur, { topic: subjects[dur], 'topic-delivery': 'durable' })];

async function count(fn) {
  return Number(await (await fetch(`${gateway}/function/${fn}/count`)).text());
}


/** Arrivals in `fn` of bodies starting with `tag`, once their count stops rising (at-most-once may drop some) or reaches `expected`. */
async function arrivals(fn, tag, expected, timeoutMs) {
  let offset = 0;
  const times = [];
  let last = -1;
  let still = 0;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const rows = await calls(fn, offset);
    offset += rows.length;
    for (const [body, at] of rows) if (body.startsWith(tag)) times.push(at);
    if (times.length >= expected) break;
    still = times.length === last ? still + 1 : 0;
    last = times.length;
    if (still >= 6) break; // 3 s without a new one
    await sleep(500);
  }
  return times.sort((a, b) => a - b);
}


async function main() {
  console.log(`[bench events] gateway ${gateway}, functions ${amo} (at-most-once ${subjects[amo]}) and ${dur} (durable ${subjects[dur]}), ${watchdogImage}, HTTP mode`);
  for (const f of functions) {
    await system('DELETE', '/system/functions', { functionName: f.service });
    const res = await system('POST', '/system/functions', f);
    if (res.status !== 202) throw new Error(`deploy ${f.service}: ${res.status} ${res.text}`);
  }
  for (const f of functions) {
    await until(`${f.service} answering`, async () => ((await fetch(`${gateway}/function/${f.service}`, { method: 'POST', body: 'warm' })).status === 200 ? true : undefined));
    // The connector follows the deploy within a second or two: until a published message arrives.
    await until(`${f.service} subscribed`, async () => {
      const tag = `warm-${Date.now()}`;
      const res = await fetch(`${gateway}/system/events/${subjects[f.service]}`, { method: 'POST', body: tag, headers: auth });
      if (f.service === dur && !(await res.json()).delivery?.startsWith('durable')) return undefined;
      await sleep(1_000);
      return (await calls(f.service)).some(([body]) => body === tag) ? true : undefined;
    }, 90_000, 0);
  }

  try {
    // 1. Rounds alternating: synchronous calls, then messages through the connector (and the other way round).
    const slice = duration / rounds;
    const pooled = { sync: { ok: 0, errors: 0 }, amo: { published: 0, invoked: 0, seconds: 0, errors: 0 }, syncD: { ok: 0 }, dur: { published: 0, invoked: 0, seconds: 0, errors: 0 } };
    for (let round = 0; round < rounds; round++) {
      for (const [fn, key, syncKey] of [[amo, 'amo', 'sync'], [dur, 'dur', 'syncD']]) {
        const order = round % 2 === 0 ? ['sync', 'events'] : ['events', 'sync'];
        for (const what of order) {
          if (what === 'sync') {
            const r = await countedLoad(`${gateway}/function/${fn}`, slice, 200, 'sync');
            pooled[syncKey].ok += r.ok;
            if (pooled[syncKey].errors !== undefined) pooled[syncKey].errors += r.errors;
          } else {
            const tag = `${key}-${round}-`;
            const r = await countedLoad(`${gateway}/system/events/${subjects[fn]}`, slice, 202, `${tag}x`, auth);
            const times = await arrivals(fn, tag, r.ok, 300_000);
            pooled[key].published += r.ok;
            pooled[key].invoked += times.length;
            pooled[key].errors += r.errors;
            // Invocations per second through the connector: first to last arrival.
            pooled[key].seconds += times.length > 1 ? (times.at(-1) - times[0]) / 1000 : 0;
          }
        }
      }
    }
    const syncRps = pooled.sync.ok / duration;
    const syncDRps = pooled.syncD.ok / duration;
    const amoRps = pooled.amo.invoked / pooled.amo.seconds;
    const durRps = pooled.dur.invoked / pooled.dur.seconds;
    const publishRps = pooled.amo.published / duration;
    const durPublishRps = pooled.dur.published / duration;

    // 2. Low load: one message at a time, about 20 per second; a synchronous call beside each, for reference.
    const latency = {};
    for (const [name, fn, send] of [
      ['sync', amo, (body) => fetch(`${gateway}/function/${amo}`, { method: 'POST', body })],
      ['at-most-once', amo, (body) => fetch(`${gateway}/system/events/${subjects[amo]}`, { method: 'POST', body, headers: auth })],
      ['durable', dur, (body) => fetch(`${gateway}/system/events/${subjects[dur]}`, { method: 'POST', body, headers: auth })],
    ]) {
      const tag = `lat-${name}-${Date.now()}-`;
      const sent = new Map();
      for (let i = 0; i < lowCount; i++) {
        const body = `${tag}${i}`;
        sent.set(body, Date.now());
        await (await send(body)).arrayBuffer();
        await sleep(50);
      }
      const got = new Map();
      let offset = 0;
      await until(`${name}: ${sent.size} arrivals`, async () => {
        const rows = await calls(fn, offset);
        offset += rows.length;
        for (const [body, at] of rows) if (sent.has(body)) got.set(body, at);
        return got.size >= sent.size ? true : undefined;
      }, 60_000, 500).catch(() => undefined);
      const values = [...got].map(([body, at]) => at - sent.get(body)).sort((a, b) => a - b);
      latency[name] = { messages: sent.size, arrived: got.size, p50: percentile(values, 50), p99: percentile(values, 99), max: values.at(-1) };
    }

    const result = {
      at: new Date().toISOString(),
      connections,
      throughput: {
        syncRps,
        atMostOnce: { publishedPerSecond: publishRps, invokedPerSecond: amoRps, ratio: amoRps / syncRps, published: pooled.amo.published, invoked: pooled.amo.invoked },
        syncDurableFunctionRps: syncDRps,
        durable: { publishedPerSecond: durPublishRps, invokedPerSecond: durRps, ratio: durRps / syncDRps, published: pooled.dur.published, invoked: pooled.dur.invoked },
      },
      latency,
    };
    console.log(`\n${connections} connections, ${duration} s per case in ${rounds} rounds:`);
    console.log('measure | figure');
    console.log(`synchronous invocations /s (POST /function/) | ${fmt(syncRps)}`);
    console.log(`at-most-once: published /s (202) | ${fmt(publishRps)}`);
    console.log(`at-most-once: invoked through the connector /s | ${fmt(amoRps)} (${fmt(result.throughput.atMostOnce.ratio, 2)} x synchronous; ${pooled.amo.invoked} of ${pooled.amo.published} published)`);
    console.log(`durable: published /s (202, stored) | ${fmt(durPublishRps)}`);
    console.log(`durable: invoked through the connector /s | ${fmt(durRps)} (${fmt(result.throughput.durable.ratio, 2)} x synchronous ${fmt(syncDRps)}/s; ${pooled.dur.invoked} of ${pooled.dur.published})`);
    for (const [name, l] of Object.entries(latency)) {
      console.log(`${name === 'sync' ? 'synchronous call -> function' : `publish -> invocation, ${name}`} (${l.arrived}/${l.messages}, ~20/s) | p50 ${fmt(l.p50)} ms, p99 ${fmt(l.p99)} ms, max ${fmt(l.max)} ms`);
    }
    mkdirSync(join(root, 'bench', 'results'), { recursive: true });
    writeFileSync(join(root, 'bench', 'results', 'events.json'), JSON.stringify(result, null, 2));
  } finally {
    for (const f of functions) await system('DELETE', '/system/functions', { functionName: f.service }).catch(() => undefined);
  }
}

main().catch((error) => {
  console.error(`[bench events] failed: ${error.stack ?? error}`);
  for (const f of functions) void system('DELETE', '/system/functions', { functionName: f.service }).catch(() => undefined);
  process.exitCode = 1;
});
