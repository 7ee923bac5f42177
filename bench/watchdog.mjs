#!/usr/bin/env node
// The watchdog's own cost, on this machine, in one run:
//   bare     a minimal Node echo server alone (the ceiling)
//   http     the watchdog in HTTP mode in front of that same echo server
//   classic  the watchdog in classic mode running `cat` (a process per request)
//   spawn    spawning `cat` alone from a small fresh Node process (classic mode's ceiling)
//   mdbare / mdhttp  the markdown sample function (a ~3 KB document) alone, and behind
//            the watchdog in HTTP mode: the overhead for a function that does some work
//   nullproxy  the smallest Node HTTP proxy (node:http server + undici dispatch, no
//            timeouts, no headers of its own) in front of the echo server: what any
//            HTTP proxy written in Node costs here
//   relay    a TCP relay (one upstream connection per client connection, bytes
//            piped, no HTTP parsing at all) in front of the echo server: the
//            ceiling of any proxy in Node on this machine
// Requests per second and p50/p99 latency at 1 and 32 connections, the ratios
// to the bare server, and CPU time per request of each side (from /proc).
//
//   node bench/watchdog.mjs      (BENCH_DURATION: seconds per case and connection count [4])
//
// The machine is shared and has 2 cores, so the cases run interleaved in
// 1-second rounds (order rotating each round): load from elsewhere hits all
// of them alike, and the ratios hold even when absolute numbers move.
// CPU time per request does not depend on waiting for a core at all.
// Everything listens on 127.0.0.1 and is stopped at the end; the watchdog is
// bundled fresh from functions/watchdog/src. Latency percentiles come from
// every response's own time (autocannon's histogram has 1 ms resolution).
// Writes bench/results/watchdog.json.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { bundleWatchdog } from '../functions/watchdog/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 4)));
const roundSeconds = 1;
const concurrencies = [1, 32];
const body = 'Hello, Function as a Service';
const markdownDoc = Array.from({ length: 12 }, (_, i) => `## Section ${i}\n\nSome *emphasis*, a [link](https://example.com/${i}) and \`code\`.\n\n- one\n- two\n- three\n\n| a | b |\n| - | - |\n| ${i} | ${i * 2} |\n`).join('\n');
const work = mkdtempSync(join(tmpdir(), 'wd-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TICK_US = 1e6 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);

// The reference proxies (see the header). They run with the repository as cwd, so require('undici') resolves.
const NULL_PROXY = `const{Pool}=require('undici');const p=new Pool('http://127.0.0.1:'+process.env.UP_PORT);require('http').createServer((q,s)=>{p.dispatch({method:q.method,path:q.url,headers:q.headers,body:q},{onRequestStart(){},onResponseStart(c,st,h){s.writeHead(st,h)},onResponseData(c,d){s.write(d)},onResponseEnd(){s.end()},onResponseError(c,e){s.destroy(e)}})}).listen(Number(process.env.PROXY_PORT),'127.0.0.1')`;
const TCP_RELAY = `const n=require('net');n.createServer((c)=>{const u=n.connect(Number(process.env.UP_PORT),'127.0.0.1');c.pipe(u).pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy())}).listen(Number(process.env.PROXY_PORT),'127.0.0.1')`;

const ECHO_SERVER = `require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d));q.on('end',()=>s.end(Buffer.concat(c)))}).listen(Number(process.env.ECHO_PORT),'127.0.0.1')`;

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** CPU ticks used by a process, plus those of its children it has waited for (classic mode's cats). */
function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

function childPids(pid) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

async function waitAnswering(url, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { method: 'POST', body: 'x', signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      /* not yet */
    }
    await sleep(100);
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

const children = [];
function startNode(args, env) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN);

async function round(url, connections, into, payload = body) {
  const instance = autocannon({ url, method: 'POST', body: payload, connections, duration: roundSeconds, pipelining: 1 });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status === 200) into.times.push(ms);
    else into.errors++;
  });
  const result = await instance;
  into.errors += result.errors + result.timeouts;
  into.seconds += roundSeconds;
}

/**
 * Spawning `cat` alone, fed the body and waited for, `parallel` at a time for
 * `ms`, from a small fresh Node process (fork cost grows with the parent's memory).
 */
function spawnAlone(parallel, ms) {
  const script = `
    const { spawn } = require('node:child_process');
    const once = () => new Promise((resolve, reject) => {
      const c = spawn('cat', [], { stdio: ['pipe', 'pipe', 'ignore'], detached: true });
      c.stdout.resume(); c.once('error', reject); c.once('close', resolve); c.stdin.end(${JSON.stringify(body)});
    });
    (async () => {
      let done = 0; const until = Date.now() + ${ms}; const t0 = process.hrtime.bigint();
      await Promise.all(Array.from({ length: ${parallel} }, async () => { while (Date.now() < until) { await once(); done++; } }));
      process.stdout.write(JSON.stringify({ spawns: done, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }));
    })();`;
  return new Promise((resolve, reject) => {
    let out = '';
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (d) => (out += d));
    child.once('error', reject);
    child.once('close', () => resolve(JSON.parse(out)));
  });
}

async function main() {
  const bundle = join(work, 'watchdog.mjs');
  await bundleWatchdog(bundle);
  const markdownBundle = join(work, 'markdown.mjs');
  await build({ entryPoints: [join(root, 'functions/markdown/src/main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'esm', outfile: markdownBundle, logLevel: 'warning' });
  const wdEnv = (extra) => ({ TMPDIR: work, suppress_lock: 'true', read_timeout: '30s', write_timeout: '30s', exec_timeout: '30s', ...extra });

  const ports = [];
  while (ports.length < 11) {
    const port = await freePort(); // one at a time, so no port is handed out twice
    if (!ports.includes(port)) ports.push(port);
  }
  const [barePort, httpPort, echoPort, classicPort, mdBarePort, mdHttpPort, mdUpPort, nullPort, nullEchoPort, relayPort, relayEchoPort] = ports;
  const bare = startNode(['-e', ECHO_SERVER], { ECHO_PORT: String(barePort) });
  const http = startNode([bundle], wdEnv({ port: String(httpPort), mode: 'http', upstream_url: `http://127.0.0.1:${echoPort}`, fprocess: `node -e "${ECHO_SERVER}"`, ECHO_PORT: String(echoPort) }));
  const classic = startNode([bundle], wdEnv({ port: String(classicPort), fprocess: 'cat' }));
  const mdBare = startNode([markdownBundle], { upstream_url: `http://127.0.0.1:${mdBarePort}` });
  const mdHttp = startNode([bundle], wdEnv({ port: String(mdHttpPort), mode: 'http', upstream_url: `http://127.0.0.1:${mdUpPort}`, fprocess: `node ${markdownBundle}` }));
  // Each reference proxy gets its own echo server, as the watchdog has its own.
  const nullEcho = startNode(['-e', ECHO_SERVER], { ECHO_PORT: String(nullEchoPort) });
  const nullProxy = startNode(['-e', NULL_PROXY], { UP_PORT: String(nullEchoPort), PROXY_PORT: String(nullPort) });
  const relayEcho = startNode(['-e', ECHO_SERVER], { ECHO_PORT: String(relayEchoPort) });
  const relay = startNode(['-e', TCP_RELAY], { UP_PORT: String(relayEchoPort), PROXY_PORT: String(relayPort) });
  const cases = {
    bare: { url: `http://127.0.0.1:${barePort}/`, pids: () => [bare.pid] },
    http: { url: `http://127.0.0.1:${httpPort}/`, pids: () => [http.pid, ...childPids(http.pid)] },
    classic: { url: `http://127.0.0.1:${classicPort}/`, pids: () => [classic.pid] },
    mdbare: { url: `http://127.0.0.1:${mdBarePort}/`, pids: () => [mdBare.pid], payload: markdownDoc },
    mdhttp: { url: `http://127.0.0.1:${mdHttpPort}/`, pids: () => [mdHttp.pid, ...childPids(mdHttp.pid)], payload: markdownDoc },
    nullproxy: { url: `http://127.0.0.1:${nullPort}/`, pids: () => [nullProxy.pid, nullEcho.pid] },
    relay: { url: `http://127.0.0.1:${relayPort}/`, pids: () => [relay.pid, relayEcho.pid] },
  };
  for (const { url } of Object.values(cases)) await waitAnswering(url);
  const httpEchoPid = childPids(http.pid)[0];

  const results = { machine: { node: process.version, cpus: cpus().length }, secondsPerCase: rounds * roundSeconds, cases: {}, cpuMicrosecondsPerRequest: {}, spawnAlone: {} };
  const names = Object.keys(cases);
  for (const c of concurrencies) {
    const acc = Object.fromEntries(names.map((n) => [n, { times: [], errors: 0, seconds: 0, ticks: {} }]));
    const spawnAcc = { spawns: 0, seconds: 0 };
    for (const n of names) await round(cases[n].url, c, { times: [], errors: 0, seconds: 0 }, cases[n].payload); // warm-up, not counted
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]);
      for (const n of order) {
        const pids = cases[n].pids();
        const before = pids.map(cpuTicks);
        await round(cases[n].url, c, acc[n], cases[n].payload);
        pids.forEach((pid, i) => (acc[n].ticks[pid] = (acc[n].ticks[pid] ?? 0) + cpuTicks(pid) - before[i]));
      }
      const alone = await spawnAlone(c, roundSeconds * 1000);
      spawnAcc.spawns += alone.spawns;
      spawnAcc.seconds += alone.seconds;
    }
    results.spawnAlone[c] = {
      perSecond: Math.round(spawnAcc.spawns / spawnAcc.seconds),
      msEach: +((spawnAcc.seconds * 1000 * c) / spawnAcc.spawns).toFixed(2),
    };
    results.cases[c] = {};
    for (const n of names) {
      const a = acc[n];
      a.times.sort((x, y) => x - y);
      results.cases[c][n] = {
        requests: a.times.length,
        errors: a.errors,
        rps: Math.round(a.times.length / a.seconds),
        p50ms: +percentile(a.times, 50).toFixed(2),
        p99ms: +percentile(a.times, 99).toFixed(2),
      };
      const perRequest = (pid) => +(((a.ticks[pid] ?? 0) * TICK_US) / Math.max(1, a.times.length)).toFixed(0);
      if (n === 'bare') results.cpuMicrosecondsPerRequest[c] = { echoServer: perRequest(bare.pid) };
      if (n === 'http') Object.assign(results.cpuMicrosecondsPerRequest[c], { httpWatchdog: perRequest(http.pid), echoBehindWatchdog: perRequest(httpEchoPid) });
      if (n === 'classic') results.cpuMicrosecondsPerRequest[c].classicWatchdogWithCats = perRequest(classic.pid);
      if (n === 'mdbare') results.cpuMicrosecondsPerRequest[c].markdownServer = perRequest(mdBare.pid);
      if (n === 'mdhttp') Object.assign(results.cpuMicrosecondsPerRequest[c], { markdownWatchdog: perRequest(mdHttp.pid), markdownBehindWatchdog: perRequest(childPids(mdHttp.pid)[0]) });
      if (n === 'nullproxy') Object.assign(results.cpuMicrosecondsPerRequest[c], { nullProxy: perRequest(nullProxy.pid), echoBehindNullProxy: perRequest(nullEcho.pid) });
      if (n === 'relay') Object.assign(results.cpuMicrosecondsPerRequest[c], { tcpRelay: perRequest(relay.pid), echoBehindRelay: perRequest(relayEcho.pid) });
    }
    console.log(`[bench] ${c} connection(s): ${JSON.stringify(results.cases[c])}`);
  }
  await Promise.all([bare, http, classic, mdBare, mdHttp, nullProxy, nullEcho, relay, relayEcho].map(stop));

  const ratio = (a, b) => +(a / b).toFixed(2);
  results.ratios = {};
  for (const c of concurrencies) {
    const r = results.cases[c];
    results.ratios[c] = {
      httpVsBare: ratio(r.http.rps, r.bare.rps),
      classicVsBare: ratio(r.classic.rps, r.bare.rps),
      classicVsSpawnAlone: ratio(r.classic.rps, results.spawnAlone[c].perSecond),
      markdownHttpVsBare: ratio(r.mdhttp.rps, r.mdbare.rps),
      nullProxyVsBare: ratio(r.nullproxy.rps, r.bare.rps),
      relayVsBare: ratio(r.relay.rps, r.bare.rps),
      httpVsNullProxy: ratio(r.http.rps, r.nullproxy.rps),
    };
  }
  results.target = { httpVsBareAt32: 0.7, measured: results.ratios[32].httpVsBare, met: results.ratios[32].httpVsBare >= 0.7 };

  console.log('\nconns  case       req/s   p50 ms   p99 ms  errors  CPU us/request');
  for (const c of concurrencies) {
    const cpu = results.cpuMicrosecondsPerRequest[c];
    const cpuOf = {
      bare: `${cpu.echoServer} (echo)`,
      http: `${cpu.httpWatchdog} (watchdog) + ${cpu.echoBehindWatchdog} (echo)`,
      classic: `${cpu.classicWatchdogWithCats} (watchdog + cat)`,
      mdbare: `${cpu.markdownServer} (markdown)`,
      mdhttp: `${cpu.markdownWatchdog} (watchdog) + ${cpu.markdownBehindWatchdog} (markdown)`,
      nullproxy: `${cpu.nullProxy} (proxy) + ${cpu.echoBehindNullProxy} (echo)`,
      relay: `${cpu.tcpRelay} (relay) + ${cpu.echoBehindRelay} (echo)`,
    };
    for (const n of names) {
      const r = results.cases[c][n];
      console.log(`${String(c).padStart(5)}  ${n.padEnd(8)} ${String(r.rps).padStart(7)} ${String(r.p50ms).padStart(8)} ${String(r.p99ms).padStart(8)} ${String(r.errors).padStart(7)}  ${cpuOf[n]}`);
    }
  }
  const s = results.spawnAlone;
  console.log(`\nspawn of cat alone (small fresh process, interleaved): ${s[1].perSecond}/s one at a time (${s[1].msEach} ms each), ${s[32].perSecond}/s 32 at a time`);
  for (const c of concurrencies) {
    const r = results.ratios[c];
    console.log(`ratios at ${c} connection(s): http/bare ${r.httpVsBare}, classic/bare ${r.classicVsBare}, classic/spawn-alone ${r.classicVsSpawnAlone}, markdown http/bare ${r.markdownHttpVsBare}`);
    console.log(`  references: smallest Node HTTP proxy/bare ${r.nullProxyVsBare}, TCP relay/bare ${r.relayVsBare}; watchdog http/smallest proxy ${r.httpVsNullProxy}`);
  }
  console.log(`target http/bare >= 0.7 at 32 connections: ${results.target.met ? 'met' : 'NOT met'} (${results.target.measured})`);

  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/watchdog.json'), `${JSON.stringify(results, null, 2)}\n`);
}

try {
  await main();
} finally {
  await Promise.all(children.map(stop));
  rmSync(work, { recursive: true, force: true });
}
