#!/usr/bin/env node
// Gateway overhead: requests per second and p50/p99 latency through the
// gateway against the same function task called directly, at 1, 8 and 32
// connections, for a function in the watchdog's HTTP mode.
//
//   GATEWAY_URL=http://127.0.0.1:8080 node bench/gateway.mjs
//
// Environment: GATEWAY_URL [http://127.0.0.1:8080]; GATEWAY_AUTH ("user:password"
// when the gateway has basic auth); STACK_NAME (names the function
// <stack>_gwbench; default "gw"); WATCHDOG_IMAGE [swarmfaas/watchdog:<version>];
// BENCH_DIRECT_PORT [38099]; BENCH_DURATION seconds per case [6], split into
// BENCH_ROUNDS [3] alternating direct/gateway runs.
//
// It deploys its function through the gateway's API (one replica, so the
// direct case hits the same single task), publishes the task's port in host
// mode on 127.0.0.1 for the direct case (docker CLI), measures, removes the
// function, prints a table and writes bench/results/gateway.json.
// A third path is measured as a reference: a bare TCP relay (a service of
// its own on the functions network, Node's net module piping bytes, no HTTP
// work) in the gateway's place. The relay/direct ratio is what one extra hop
// over the Swarm network costs on this machine whatever the proxy does; the
// gateway/relay ratio is what the gateway's own HTTP work costs on top.
// With BENCH_BASELINE_IMAGE (a gateway image built from an earlier commit,
// e.g. swarmfaas/gateway:before), a second gateway from it runs beside the
// stack's on the same functions network and joins the rotation: the
// gateway/baseline ratio is "after / before" measured in the same run.
// The stack's gateway does more than a gateway started alone (NATS, load
// reports, the catalog, Prometheus's scrapes): with BENCH_CANDIDATE_IMAGE
// too (e.g. swarmfaas/gateway:<version>), a third gateway from it runs alone
// the same way as the baseline, and candidate/baseline compares the two
// builds on equal terms (the same image as both gives the method's own spread).
// BENCH_BASELINE_ENV / BENCH_CANDIDATE_ENV (space-separated NAME=value) set
// environment on those two, e.g. the same image with and without a Node flag:
// BENCH_BASELINE_IMAGE=swarmfaas/gateway:0.1.0 BENCH_BASELINE_ENV=NODE_OPTIONS=--max-semi-space-size=1
// BENCH_CANDIDATE_IMAGE=swarmfaas/gateway:0.1.0.
// For every gateway whose container runs on this node (as root: its cgroup is
// read), the CPU it used per answered call is reported too: on a shared
// 2-core machine the requests per second of a path move with whatever else
// runs, its CPU per call much less.
// A gateway started alone is fresh: V8 has yet to optimize its code and size
// its young generation, which takes the first minutes of load and weighs on
// whichever connection count is measured first. BENCH_WARMUP [30] seconds of
// load at 8 connections, in turns, go to each gateway started alone before
// any measurement (the stack's has been running). The candidate/baseline
// ratio is also given per round (lowest, median, highest), the method's spread.
// Latency percentiles are computed from every response's own time (autocannon's
// histogram has 1 ms resolution, too coarse for the overhead at 1 connection).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { containerCpuNs, ECHO_JS, gateway, percentile, root, sleep, system, version, watchdogImage } from './_support.mjs';

const name = `${process.env.STACK_NAME || 'gw'}_gwbench`;
const image = watchdogImage;
const directPort = Number(process.env.BENCH_DIRECT_PORT ?? 38099);
const relayPort = directPort + 1;
const relayName = `${name}_relay`;
const gatewayImage = `swarmfaas/gateway:${version}`;
const baselineImage = process.env.BENCH_BASELINE_IMAGE;
const baselinePort = directPort + 2;
const baselineName = `${name}_baseline`;
const candidateImage = process.env.BENCH_CANDIDATE_IMAGE;
const candidatePort = directPort + 3;
const candidateName = `${name}_candidate`;
const envList = (text) => (text ?? '').split(/\s+/).filter(Boolean);
const baselineEnv = envList(process.env.BENCH_BASELINE_ENV);
const candidateEnv = envList(process.env.BENCH_CANDIDATE_ENV);
const stackGatewayService = `${process.env.STACK_NAME || 'func'}_gateway`;
// The reference relay: one connection to the task per client connection, bytes piped both ways.
const relayScript =
  "const n=require('net');n.createServer((c)=>{const u=n.connect(8080,process.env.UPSTREAM);" +
  "c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(8080)";
const duration = Number(process.env.BENCH_DURATION ?? 6);
const warmupSeconds = Number(process.env.BENCH_WARMUP ?? 30);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const concurrencies = [1, 8, 32];
const body = 'Hello, Function as a Service';

// The function: the watchdog in HTTP mode in front of a small long-running echo server.
const deployment = {
  service: name,
  image,
  envProcess: `node -e "${ECHO_JS}"`,
  envVars: { mode: 'http', upstream_url: 'http://127.0.0.1:3000' },
  // One task all along: the load would otherwise make the stack's autoscaler add
  // replicas mid-run (the direct case reaches only the first one, and starting
  // tasks take CPU from the measurement).
  labels: { 'com.openfaas.scale.zero': 'false', 'com.openfaas.scale.max': '1' },
};

async function waitOk(url, what, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { method: 'POST', body, signal: AbortSignal.timeout(3000) });
      const text = await res.text();
      if (res.status === 200 && text === body) return;
      last = `${res.status} ${text.slice(0, 120)}`;
    } catch (error) {
      last = String(error.cause?.code ?? error.message);
    }
    await sleep(500);
  }
  throw new Error(`${what} did not answer 200 within ${timeoutMs / 1000} s (last: ${last})`);
}

/** Lowest, median and highest of `b`'s figure over `a`'s, round by round (req/s and CPU per call). */
function roundSpread(a, b) {
  const spread = (values) => {
    const sorted = values.filter(Number.isFinite).sort((x, y) => x - y);
    return sorted.length ? { low: sorted[0], median: percentile(sorted, 50), high: sorted[sorted.length - 1] } : undefined;
  };
  const rounds = a.perRound.map((ra, i) => [ra, b.perRound[i]]);
  return {
    rps: spread(rounds.map(([ra, rb]) => rb.requests / ra.requests)),
    cpu: spread(rounds.map(([ra, rb]) => (ra.cpuNs === undefined || rb.cpuNs === undefined ? NaN : rb.cpuNs / rb.requests / (ra.cpuNs / ra.requests)))),
  };
}

/**
 * The CPU time (ns) used so far by the one container of `service` on this
 * node (its cgroup, v1 or v2), or undefined when it cannot be read (not root,
 * not here, several replicas).
 */
function cpuReader(service) {
  let ids;
  try {
    ids = docker('ps', '-q', '--no-trunc', '--filter', `label=com.docker.swarm.service.name=${service}`).split('\n').filter(Boolean);
  } catch {
    return undefined;
  }
  if (ids.length !== 1) return undefined;
  const read = () => containerCpuNs(ids[0]);
  try {
    return read() === undefined ? undefined : read;
  } catch {
    return undefined;
  }
}

async function measure(url, connections, seconds, times = []) {
  const instance = autocannon({ url, connections, duration: seconds, method: 'POST', body, headers: { 'content-type': 'text/plain' } });
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode === 200) times.push(responseTime);
  });
  const result = await instance;
  return { requests: result.requests.total, errors: result.errors + result.timeouts + result.non2xx };
}

/**
 * The paths run one after another in rounds, in an order that rotates each
 * round, so that a change in the machine's load (it is shared) weighs on all
 * of them alike; figures pool the rounds.
 */
async function compare(urls, connections, cpu = {}) {
  const keys = Object.keys(urls);
  const pooled = Object.fromEntries(keys.map((k) => [k, { times: [], requests: 0, errors: 0, cpuNs: 0, perRound: [] }]));
  const slice = duration / rounds;
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(i + round) % keys.length];
      const cpuBefore = cpu[key]?.();
      const r = await measure(urls[key], connections, slice, pooled[key].times);
      const cpuNs = cpuBefore === undefined ? undefined : cpu[key]() - cpuBefore;
      if (cpuNs !== undefined) pooled[key].cpuNs += cpuNs;
      pooled[key].perRound.push({ requests: r.requests, cpuNs });
      pooled[key].requests += r.requests;
      pooled[key].errors += r.errors;
    }
  }
  const summary = (key) => {
    const p = pooled[key];
    p.times.sort((a, b) => a - b);
    const cpuUsPerCall = cpu[key] && p.times.length > 0 ? p.cpuNs / 1000 / p.times.length : undefined;
    return { rps: p.requests / duration, ok: p.times.length, errors: p.errors, p50: percentile(p.times, 50), p99: percentile(p.times, 99), cpuUsPerCall, perRound: p.perRound };
  };
  return Object.fromEntries(keys.map((k) => [k, summary(k)]));
}

function docker(...args) {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function removeService(service) {
  try {
    execFileSync('docker', ['service', 'rm', service], { stdio: 'ignore' });
  } catch {
    /* not there */
  }
}
const removeRelay = () => removeService(relayName);

/** A gateway of `gatewayImage` alone on the function's network (no NATS, no auth), published on `port`; answers its invoke URL. */
async function startStandalone(service, gatewayImage, network, port, env = []) {
  removeService(service);
  const networkName = docker('network', 'inspect', '--format', '{{.Name}}', network);
  docker('service', 'create', '--quiet', '--detach=false', '--name', service, '--network', networkName,
    '--mount', 'type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock', '--constraint', 'node.role == manager',
    '--env', `FUNCTIONS_NETWORK=${networkName}`, '--env', 'BASIC_AUTH=false',
    ...env.flatMap((pair) => ['--env', pair]),
    '--publish', `mode=host,target=8080,published=${port}`, gatewayImage);
  const url = `http://127.0.0.1:${port}/function/${name}`;
  await waitOk(url, `the function through a gateway alone (${gatewayImage})`);
  return url;
}

async function main() {
  console.log(`[bench gateway] gateway ${gateway}, function ${name} (${image}, HTTP mode), ${duration} s per case in ${rounds} alternating rounds`);
  await system('DELETE', '/system/functions', { functionName: name });
  const deployed = await system('POST', '/system/functions', deployment);
  if (deployed.status !== 202) throw new Error(`deploying ${name} answered ${deployed.status}: ${deployed.text}`);
  try {
    // Host-mode publish for the direct case (the API deploys functions without ports).
    execFileSync('docker', ['service', 'update', '--quiet', '--detach=false', '--update-order', 'stop-first', '--publish-add', `mode=host,target=8080,published=${directPort}`, name], { stdio: ['ignore', 'ignore', 'inherit'] });
    const direct = `http://127.0.0.1:${directPort}/`;
    const through = `${gateway}/function/${name}`;
    const relayed = `http://127.0.0.1:${relayPort}/`;
    await waitOk(direct, 'the function (direct)');
    await waitOk(through, 'the function through the gateway');
    removeRelay();
    const network = docker('service', 'inspect', '--format', '{{range .Spec.TaskTemplate.Networks}}{{.Target}} {{end}}', name).split(' ')[0];
    docker('service', 'create', '--quiet', '--detach=false', '--name', relayName, '--network', network, '--endpoint-mode', 'dnsrr',
      '--publish', `mode=host,target=8080,published=${relayPort}`, '--env', `UPSTREAM=tasks.${name}`, gatewayImage, 'node', '-e', relayScript);
    await waitOk(relayed, 'the function through the reference TCP relay');
    const paths = { direct, gateway: through, relay: relayed };
    if (baselineImage) paths.baseline = await startStandalone(baselineName, baselineImage, network, baselinePort, baselineEnv);
    if (baselineImage && candidateImage) paths.candidate = await startStandalone(candidateName, candidateImage, network, candidatePort, candidateEnv);
    const cpu = {};
    const readers = { gateway: stackGatewayService, baseline: baselineName, candidate: candidateName };
    for (const [path, service] of Object.entries(readers)) {
      const reader = paths[path] ? cpuReader(service) : undefined;
      if (reader) cpu[path] = reader;
    }

    const alone = [paths.baseline, paths.candidate].filter(Boolean);
    if (alone.length && warmupSeconds > 0) {
      console.log(`[bench gateway] warming the gateway(s) started alone: ${warmupSeconds} s each at 8 connections`);
      for (let turn = 0; turn < 3; turn++) for (const url of alone) await measure(url, 8, warmupSeconds / 3);
    }
    const rows = [];
    for (const connections of concurrencies) {
      // Warm every path (connections, JIT), then measure them in rotating order.
      for (const url of Object.values(paths)) await measure(url, connections, 1);
      const { direct: d, gateway: g, relay: r, baseline: b, candidate: c } = await compare(paths, connections, cpu);
      rows.push({
        connections,
        direct: d,
        gateway: g,
        relay: r,
        ...(b ? { baseline: b, gatewayVsBaseline: g.rps / b.rps, p50VsBaselineMs: g.p50 - b.p50 } : {}),
        ...(b && c ? { candidate: c, candidateVsBaseline: c.rps / b.rps, candidateP50VsBaselineMs: c.p50 - b.p50, candidateCpuVsBaseline: c.cpuUsPerCall / b.cpuUsPerCall, candidateVsBaselineRounds: roundSpread(b, c) } : {}),
        rpsRatio: g.rps / d.rps,
        addedP50ms: g.p50 - d.p50,
        relayVsDirect: r.rps / d.rps,
        gatewayVsRelay: g.rps / r.rps,
      });
    }

    const fmt = (n, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
    console.log('\nconn | direct req/s | p50 ms | p99 ms | gateway req/s | p50 ms | p99 ms | ratio | added p50 ms | errors d/g');
    for (const r of rows) {
      console.log(
        [r.connections, fmt(r.direct.rps, 0), fmt(r.direct.p50, 3), fmt(r.direct.p99, 3), fmt(r.gateway.rps, 0), fmt(r.gateway.p50, 3), fmt(r.gateway.p99, 3), fmt(r.rpsRatio), fmt(r.addedP50ms, 3), `${r.direct.errors}/${r.gateway.errors}`].join(' | '),
      );
    }
    console.log('\nreference, a bare TCP relay in the gateway\'s place:\nconn | relay req/s | p50 ms | relay/direct | gateway/relay | errors');
    for (const r of rows) {
      console.log([r.connections, fmt(r.relay.rps, 0), fmt(r.relay.p50, 3), fmt(r.relayVsDirect), fmt(r.gatewayVsRelay), r.relay.errors].join(' | '));
    }
    if (baselineImage) {
      console.log(`\nthis gateway against the baseline ${baselineImage} ${baselineEnv.join(' ')}, same run:\nconn | baseline req/s | p50 ms | gateway/baseline | p50 difference ms | errors | CPU µs per call baseline / gateway`);
      for (const r of rows) console.log([r.connections, fmt(r.baseline.rps, 0), fmt(r.baseline.p50, 3), fmt(r.gatewayVsBaseline), fmt(r.p50VsBaselineMs, 3), r.baseline.errors, `${fmt(r.baseline.cpuUsPerCall, 0)} / ${fmt(r.gateway.cpuUsPerCall, 0)}`].join(' | '));
    }
    if (baselineImage && candidateImage) {
      console.log(`\n${candidateImage} ${candidateEnv.join(' ')} against ${baselineImage} ${baselineEnv.join(' ')}, each a gateway alone, same run:\nconn | candidate req/s | p50 ms | candidate/baseline | p50 difference ms | errors | CPU µs per call | CPU candidate/baseline | per round req/s, CPU (low median high)`);
      const span = (s) => (s ? `${fmt(s.low)} ${fmt(s.median)} ${fmt(s.high)}` : '-');
      for (const r of rows) {
        const perRound = r.candidateVsBaselineRounds;
        console.log([r.connections, fmt(r.candidate.rps, 0), fmt(r.candidate.p50, 3), fmt(r.candidateVsBaseline), fmt(r.candidateP50VsBaselineMs, 3), r.candidate.errors, fmt(r.candidate.cpuUsPerCall, 0), fmt(r.candidateCpuVsBaseline), `${span(perRound.rps)}, ${span(perRound.cpu)}`].join(' | '));
      }
    }
    const at32 = rows.find((r) => r.connections === 32);
    const at1 = rows.find((r) => r.connections === 1);
    const targets = {
      ratioAt32: { value: at32.rpsRatio, target: '>= 0.6', met: at32.rpsRatio >= 0.6 },
      addedP50At1ms: { value: at1.addedP50ms, target: '< 0.5', met: at1.addedP50ms < 0.5 },
    };
    console.log(`\ntargets: through/direct at 32 = ${fmt(at32.rpsRatio)} (>= 0.6: ${targets.ratioAt32.met}); added p50 at 1 = ${fmt(at1.addedP50ms, 3)} ms (< 0.5: ${targets.addedP50At1ms.met})`);
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(
      join(resultsDir, 'gateway.json'),
      JSON.stringify({ at: new Date().toISOString(), gateway, function: name, image, mode: 'http', durationSeconds: duration, rounds, warmupSeconds, rows, targets }, null, 2),
    );
  } finally {
    removeRelay();
    if (baselineImage) removeService(baselineName);
    if (candidateImage) removeService(candidateName);
    const removed = await system('DELETE', '/system/functions', { functionName: name });
    if (removed.status !== 202) console.error(`[bench gateway] removing ${name} answered ${removed.status}: ${removed.text}`);
  }
}

main().catch((error) => {
  console.error(`[bench gateway] failed: ${error.message}`);
  process.exit(1);
});
