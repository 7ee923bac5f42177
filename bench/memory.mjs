#!/usr/bin/env node
// Memory of the control plane (every service of the stack but the functions),
// in one run against a deployed stack:
//   1. idle, after the deploy;
//   2. after load: BENCH_SYNC_SECONDS [20] of synchronous calls at 32
//      connections, BENCH_ASYNC [2000] asynchronous calls and BENCH_EVENTS
//      [2000] topic messages, all to one HTTP-mode echo function;
//   3. after BENCH_FUNCTIONS [100] functions were deployed (one at a time,
//      through the API) and removed again;
// each measured BENCH_SETTLE_SECONDS [80] after its phase ended.
// For each service: the resident memory of its main process (VmRSS, read on
// the host from /proc) and its container's memory as `docker stats` counts it;
// its private part (RssAnon) and its proportional share (Pss: pages shared with
// other processes, such as the node binary's, counted in part);
// for the Node.js services also what V8 reports through their /metrics
// (heap used, external memory), so that memory held outside the JavaScript
// heap shows.
//
//   GATEWAY_URL=http://127.0.0.1:8080 STACK_NAME=func node bench/memory.mjs
//
// Environment: GATEWAY_URL, GATEWAY_AUTH ("user:password" with basic auth),
// STACK_NAME [func], WATCHDOG_IMAGE [swarmfaas/watchdog:<FAAS_TAG or version>].
// Needs root on the node the stack runs on (it reads /proc and cgroups).
// Prints a table and writes bench/results/memory.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { auth, containerMemory, docker, ECHO_JS, gateway, httpFunction, mainProcess, root, sleep, system, until, watchdogImage } from './_support.mjs';

const stack = process.env.STACK_NAME || 'func';
const syncSeconds = Number(process.env.BENCH_SYNC_SECONDS ?? 20);
const asyncCalls = Number(process.env.BENCH_ASYNC ?? 2000);
const events = Number(process.env.BENCH_EVENTS ?? 2000);
const functionCount = Number(process.env.BENCH_FUNCTIONS ?? 100);
// Seconds between the end of a phase and its measurement: the worker and the connector work off what
// they took, and every program, quiet for MEMORY_REDUCE_QUIET (60 s, looked at every 10 s), gives
// back what it can.
const settleSeconds = Number(process.env.BENCH_SETTLE_SECONDS ?? 80);
const MiB = (bytes) => (bytes === undefined ? undefined : +(bytes / 2 ** 20).toFixed(1));
const fn = `${stack}_membench`;

async function api(method, path, body) {
  const res = await system(method, path, body);
  if (res.status >= 300 && res.status !== 404) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.status;
}

/** The stack's services that are not functions, with their running container on this node. */
async function controlPlane() {
  const names = (await docker('service', 'ls', '--filter', `label=com.docker.stack.namespace=${stack}`, '--format', '{{.Name}}')).split('\n').filter(Boolean);
  const out = [];
  for (const name of names) {
    const labels = JSON.parse(await docker('service', 'inspect', name, '--format', '{{json .Spec.Labels}}'));
    if (labels?.function === 'true') continue;
    const ids = (await docker('ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${name}`)).split('\n').filter(Boolean);
    for (const id of ids) out.push({ service: name.slice(stack.length + 1), id });
  }
  return out;
}

function cgroupMemory(id) {
  try {
    return containerMemory(id).used;
  } catch {
    return undefined;
  }
}

/** What V8 says, from the service's own /metrics (prom-client's default metrics), read inside its container. */
async function v8Figures(id) {
  let text = '';
  try {
    text = await docker('exec', id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/metrics');
  } catch {
    return {};
  }
  const value = (name) => {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  return { heapUsed: value('nodejs_heap_size_used_bytes'), heapTotal: value('nodejs_heap_size_total_bytes'), external: value('nodejs_external_memory_bytes') };
}

async function snapshot(label) {
  const rows = [];
  for (const { service, id } of await controlPlane()) {
    const main = await mainProcess(id);
    const v8 = await v8Figures(id);
    rows.push({ phase: label, service, process: main?.command, rssMiB: MiB(main?.rss), anonMiB: MiB(main?.anon), pssMiB: MiB(main?.pss), containerMiB: MiB(cgroupMemory(id)), heapUsedMiB: MiB(v8.heapUsed), externalMiB: MiB(v8.external) });
  }
  rows.sort((a, b) => a.service.localeCompare(b.service));
  const total = rows.reduce((sum, r) => sum + (r.containerMiB ?? 0), 0);
  console.log(`\n${label}: control plane ${total.toFixed(1)} MiB (containers)`);
  console.table(rows.map(({ phase, ...r }) => r));
  return { label, totalMiB: +total.toFixed(1), rows };
}

async function waitReady(name) {
  await until(`${name} answering`, async () => ((await fetch(`${gateway}/function/${name}`, { method: 'POST', body: 'x' })).status === 200 ? true : undefined), 60_000, 500);
}

async function load() {
  await api('POST', '/system/functions', httpFunction(fn, ECHO_JS, { annotations: { topic: 'membench' }, labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1' } }));
  await waitReady(fn);
  const sync = await autocannon({ url: `${gateway}/function/${fn}`, method: 'POST', body: 'Hello, Function as a Service', connections: 32, duration: syncSeconds });
  const asyncBench = await autocannon({ url: `${gateway}/async-function/${fn}`, method: 'POST', body: 'later', connections: 16, amount: asyncCalls });
  const eventsBench = await autocannon({ url: `${gateway}/system/events/membench`, method: 'POST', headers: auth, body: 'event', connections: 16, amount: events });
  console.log(`load: ${sync.requests.total} synchronous calls, ${asyncBench['2xx']} asynchronous calls accepted, ${eventsBench['2xx']} events published`);
  await sleep(settleSeconds * 1000);
}

async function churn() {
  const started = Date.now();
  for (let i = 0; i < functionCount; i++) {
    await api('POST', '/system/functions', { service: `${stack}_memchurn${i}`, image: watchdogImage, envVars: { fprocess: 'cat' } });
  }
  for (let i = 0; i < functionCount; i++) await api('DELETE', '/system/functions', { functionName: `${stack}_memchurn${i}` });
  console.log(`churn: ${functionCount} functions deployed and removed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await sleep(settleSeconds * 1000);
}

const phases = [];
try {
  phases.push(await snapshot('idle'));
  await load();
  phases.push(await snapshot('after load'));
  await churn();
  phases.push(await snapshot(`after ${functionCount} functions came and went`));
} finally {
  await api('DELETE', '/system/functions', { functionName: fn }).catch(() => undefined);
}
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'memory.json'), JSON.stringify({ stack, phases }, null, 2));
