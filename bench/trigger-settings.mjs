#!/usr/bin/env node
// The queue worker's and the event connector's environment, case against case,
// in one run against a deployed stack. Each round, for each case in turn:
//   1. sets the case's variables on both services (docker service update: a
//      fresh process each time, as after a deploy);
//   2. sends BENCH_ASYNC [3000] asynchronous calls, then as many topic
//      messages, to one HTTP-mode echo function (16 connections);
//   3. reads the CPU time each service used from the first call until both
//      were quiet again (under 40 ms of CPU per second), and each main
//      process's anonymous memory BENCH_SETTLE_SECONDS [80] later (the memory
//      reducer waits for a minute of quiet).
// The services get their own environment back at the end.
//
//   GATEWAY_URL=http://127.0.0.1:8080 STACK_NAME=func node bench/trigger-settings.mjs
//
// Environment: that of _support.mjs; STACK_NAME [func]; BENCH_ROUNDS [3];
// BENCH_SETTINGS, the cases as JSON {"name": {"VARIABLE": "value"}} (default:
// glibc's mmap threshold at 128 KiB against 32 KiB). Needs root on the node
// the services run on (it reads /proc and cgroups). Prints a table and writes
// bench/results/trigger-settings.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { auth, containerCpuNs, deploy, docker, ECHO_JS, gateway, httpFunction, mainProcess, MiB, root, roundSettings, sleep, system, until } from './_support.mjs';

const stack = process.env.STACK_NAME || 'func';
const calls = Number(process.env.BENCH_ASYNC ?? 3000);
const settleSeconds = Number(process.env.BENCH_SETTLE_SECONDS ?? 80);
const cases = JSON.parse(process.env.BENCH_SETTINGS ?? '{"mmap 128 KiB":{"MALLOC_MMAP_THRESHOLD_":"131072"},"mmap 32 KiB":{"MALLOC_MMAP_THRESHOLD_":"32768"}}');
const services = ['queue-worker', 'connector'].map((s) => `${stack}_${s}`);
const fn = `${stack}_settingsbench`;
const topic = 'settingsbench';

/** The service's environment as docker service update takes it back: NAME=value lines. */
async function environment(service) {
  return JSON.parse(await docker('service', 'inspect', service, '--format', '{{json .Spec.TaskTemplate.ContainerSpec.Env}}')) ?? [];
}

/** Sets `vars` on the service, removing `drop` (names), and waits until its new task runs. */
async function setEnvironment(service, vars, drop = []) {
  const args = ['service', 'update', '--quiet', '--detach=false'];
  for (const name of drop) args.push('--env-rm', name);
  for (const [name, value] of Object.entries(vars)) args.push('--env-add', `${name}=${value}`);
  await docker(...args, service);
}

async function runningContainer(service) {
  return until(`${service} running`, async () => (await docker('ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${service}`)).split('\n').find(Boolean), 60_000, 500);
}

async function oneCase(name, vars) {
  for (const service of services) await setEnvironment(service, vars);
  // The fresh processes connect and subscribe.
  await sleep(15_000);
  const ids = await Promise.all(services.map(runningContainer));
  const cpu = () => ids.map((id) => containerCpuNs(id));
  const start = cpu();
  const started = Date.now();
  await autocannon({ url: `${gateway}/async-function/${fn}`, method: 'POST', body: 'later', connections: 16, amount: calls });
  await autocannon({ url: `${gateway}/system/events/${topic}`, method: 'POST', headers: auth, body: 'event', connections: 16, amount: calls });
  // Quiet: both used under 40 ms of CPU in the last second, every call worked off (or, for messages over the function's limit, dropped).
  let last = cpu();
  let quietAt = Date.now();
  for (;;) {
    await sleep(1000);
    const now = cpu();
    const busy = now.some((ns, i) => ns - last[i] > 40e6);
    last = now;
    if (!busy) break;
    quietAt = Date.now();
  }
  await sleep(settleSeconds * 1000);
  const memory = await Promise.all(ids.map(mainProcess));
  const row = { case: name, seconds: +((quietAt - started) / 1000).toFixed(1) };
  services.forEach((service, i) => {
    const short = service.slice(stack.length + 1);
    row[`${short} CPU ms`] = Math.round((last[i] - start[i]) / 1e6);
    row[`${short} anon MiB`] = MiB(memory[i].anon);
  });
  console.log(JSON.stringify(row));
  return row;
}

const saved = Object.fromEntries(await Promise.all(services.map(async (s) => [s, await environment(s)])));
await deploy(httpFunction(fn, ECHO_JS, { annotations: { topic }, labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1', 'com.openfaas.async.max-inflight': '32' } }));

const rows = [];
try {
  for (let round = 0; round < roundSettings.rounds; round++) {
    for (const [name, vars] of Object.entries(cases)) rows.push({ round, ...(await oneCase(name, vars)) });
  }
} finally {
  await system('DELETE', '/system/functions', { functionName: fn });
  const names = new Set(Object.values(cases).flatMap((vars) => Object.keys(vars)));
  for (const service of services) {
    const own = Object.fromEntries(saved[service].map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    await setEnvironment(service, Object.fromEntries([...names].filter((n) => n in own).map((n) => [n, own[n]])), [...names].filter((n) => !(n in own)));
  }
}

console.log(`\n${calls} asynchronous calls and ${calls} topic messages per case, rounds alternating`);
console.table(rows);
const summary = {};
for (const name of Object.keys(cases)) {
  const mine = rows.filter((r) => r.case === name);
  summary[name] = Object.fromEntries(Object.keys(mine[0]).filter((k) => / (CPU ms|anon MiB)$/.test(k)).map((k) => [k, +(mine.reduce((s, r) => s + r[k], 0) / mine.length).toFixed(1)]));
}
console.log('means');
console.table(summary);
mkdirSync(join(root, 'bench', 'results'), { recursive: true });
writeFileSync(join(root, 'bench', 'results', 'trigger-settings.json'), JSON.stringify({ at: new Date().toISOString(), calls, settleSeconds, cases, rows, means: summary }, null, 2));
