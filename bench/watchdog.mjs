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
//   goclassic / goof  the Go references from ../shared/reference/ when present
//            (OpenFaaS classic-watchdog running `cat`; of-watchdog in HTTP mode in
//            front of its own echo server). Both bind a metrics port 8081 of their
//            own, so each is started for its round only and killed after it.
// Requests per second and p50/p99 latency at 1 and 32 connections, the ratios
// to the bare server, and CPU time per request of each side (from /proc).
//
//   node bench/watchdog.mjs      (BENCH_DURATION: seconds per case and connection count [4];
//                                 REFERENCE_DIR: the Go watchdogs [../shared/reference])
//   BENCH_EXPERIMENTS=1 node bench/watchdog.mjs   adds the other ways classic mode was tried:
//     nodespawn   Node's child_process instead of the spawner (spawner=node), the old way
//     nodesmall   the same with a smaller V8 heap (less to copy per fork)
//     cluster2    two watchdog processes sharing the port (node:cluster), each forking with Node
//   BENCH_CASES=classic,goclassic  runs only the cases named
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
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { buildSpawner, bundleWatchdog } from '../functions/watchdog/build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rounds = Math.max(1, Math.round(Number(process.env.BENCH_DURATION ?? 4)));
const roundSeconds = 1;
const concurrencies = [1, 32];
const body = 'Hello, Function as a Service';
const markdownDoc = Array.from({ length: 12 }, (_, i) => `## Section ${i}\n\nSome *emphasis*, a [link](https://example.com/${i}) and \`code\`.\n\n- one\n- two\n- three\n\n| a | b |\n| - | - |\n| ${i} | ${i * 2} |\n`).join('\n');
const work = mkdtempSync(join(tmpdir(), 'wd-bench-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The watchdog's node flags, as functions/watchdog/init.sh gives them. */
const WATCHDOG_FLAGS = ['--max-semi-space-size=1'];
const referenceDir = process.env.REFERENCE_DIR ?? join(root, '../shared/reference');
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

/** Waits until nothing listens on `port` (the Go watchdogs' fixed metrics port). */
async function portFree(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const free = await new Promise((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, () => probe.close(() => resolve(true)));
    });
    if (free) return;
    if (Date.now() > deadline) throw new Error(`port ${port} stayed in use for ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/**
 * A Go reference watchdog, started for one round and killed after it (both
 * bind port 8081 for metrics, so only one may run at a time). SIGKILL: the
 * classic-watchdog ignores SIGTERM while it drains.
 */
function referenceCase(binary, port, env, payloadUrl) {
  let child;
  return {
    url: payloadUrl,
    async before() {
      // Another program (another run of the references, say) may hold 8081 for a while: wait, and retry.
      for (let attempt = 1; ; attempt++) {
        await portFree(8081, 60_000);
        child = spawn(binary, [], { env: { PATH: process.env.PATH, TMPDIR: work, port: String(port), suppress_lock: 'true', write_debug: 'false', prefix_logs: 'false', read_timeout: '30s', write_timeout: '30s', exec_timeout: '30s', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        children.push(child);
        let said = '';
        child.stderr.on('data', (d) => (said = (said + d).slice(-2000)));
        const died = new Promise((resolve) => child.once('exit', () => resolve('died')));
        const up = await Promise.race([waitAnswering(payloadUrl).then(() => 'up', (err) => err), died]);
        if (up === 'up') return;
        if (up !== 'died') child.kill('SIGKILL');
        if (attempt === 3) throw new Error(`${binary} did not come up (${up === 'died' ? 'it exited' : up.message}); it said: ${said}`);
      }
    },
    async after() {
      const exited = new Promise((r) => child.once('exit', r));
      // of-watchdog's echo server is its child: kill it too (it has no group of its own).
      for (const pid of childPids(child.pid)) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      child.kill('SIGKILL');
      await exited;
    },
    pids: () => [child.pid, ...childPids(child.pid)],
  };
}

async function main() {
  const bundle = join(work, 'watchdog.mjs');
  await bundleWatchdog(bundle);
  // Next to the bundle, where the watchdog looks for it (as in the image).
  if (!buildSpawner(undefined, join(work, 'spawner'))) throw new Error('no C compiler (cc) to build the watchdog\'s spawner: install gcc');
  const markdownBundle = join(work, 'markdown.mjs');
  await build({ entryPoints: [join(root, 'functions/markdown/src/main.ts')], bundle: true, platform: 'node', target: 'node20', format: 'esm', outfile: markdownBundle, logLevel: 'warning' });
  // As the image's init.sh runs it (MALLOC_ARENA_MAX there too; the flag below is passed per process).
  const wdEnv = (extra) => ({ TMPDIR: work, suppress_lock: 'true', read_timeout: '30s', write_timeout: '30s', exec_timeout: '30s', MALLOC_ARENA_MAX: '1', ...extra });

  const ports = [];
  while (ports.length < 17) {
    const port = await freePort(); // one at a time, so no port is handed out twice
    if (!ports.includes(port) && port !== 8081) ports.push(port);
  }
  const [barePort, httpPort, echoPort, classicPort, mdBarePort, mdHttpPort, mdUpPort, nullPort, nullEchoPort, relayPort, relayEchoPort, goClassicPort, goOfPort, goOfEchoPort, nodeSpawnPort, nodeSmallPort, clusterPort] = ports;
  const bare = startNode(['-e', ECHO_SERVER], { ECHO_PORT: String(barePort) });
  const http = startNode([...WATCHDOG_FLAGS, bundle], wdEnv({ port: String(httpPort), mode: 'http', upstream_url: `http://127.0.0.1:${echoPort}`, fprocess: `node -e "${ECHO_SERVER}"`, ECHO_PORT: String(echoPort) }));
  const classic = startNode([...WATCHDOG_FLAGS, bundle], wdEnv({ port: String(classicPort), fprocess: 'cat' }));
  const mdBare = startNode([markdownBundle], { upstream_url: `http://127.0.0.1:${mdBarePort}` });
  const mdHttp = startNode([...WATCHDOG_FLAGS, bundle], wdEnv({ port: String(mdHttpPort), mode: 'http', upstream_url: `http://127.0.0.1:${mdUpPort}`, fprocess: `node ${markdownBundle}` }));
  // Each reference proxy gets its own echo server, as the watchdog has its own.
  const nullEcho = startNode(['-e', ECHO_SERVER], { ECHO_PORT: String(nullEchoPort) });
  const nullProxy = startNode(['-e', NULL_PROXY], { UP_PORT: String(nullEchoPort), PROXY_PORT: String(nullPort) });
  const relayEcho = startNode(['-e', ECHO_SERVER], { ECHO_PORT: String(relayEchoPort) });
  const relay = startNode(['-e', TCP_RELAY], { UP_PORT: String(relayEchoPort), PROXY_PORT: String(relayPort) });
  // pids() and roles: whose CPU time each case counts (a process and the children it waited for).
  const cases = {
    bare: { url: `http://127.0.0.1:${barePort}/`, pids: () => [bare.pid], roles: ['echo'] },
    http: { url: `http://127.0.0.1:${httpPort}/`, pids: () => [http.pid, ...childPids(http.pid)], roles: ['watchdog', 'echo'] },
    classic: { url: `http://127.0.0.1:${classicPort}/`, pids: () => [classic.pid, ...childPids(classic.pid)], roles: ['watchdog + cat', 'spawner + cat'] },
    mdbare: { url: `http://127.0.0.1:${mdBarePort}/`, pids: () => [mdBare.pid], payload: markdownDoc, roles: ['markdown'] },
    mdhttp: { url: `http://127.0.0.1:${mdHttpPort}/`, pids: () => [mdHttp.pid, ...childPids(mdHttp.pid)], payload: markdownDoc, roles: ['watchdog', 'markdown'] },
    nullproxy: { url: `http://127.0.0.1:${nullPort}/`, pids: () => [nullProxy.pid, nullEcho.pid], roles: ['proxy', 'echo'] },
    relay: { url: `http://127.0.0.1:${relayPort}/`, pids: () => [relay.pid, relayEcho.pid], roles: ['relay', 'echo'] },
  };
  const experiments = [];
  if (process.env.BENCH_EXPERIMENTS === '1') {
    const clusterFile = join(work, 'cluster.mjs');
    writeFileSync(clusterFile, `import cluster from 'node:cluster';\nif (cluster.isPrimary) { for (let i = 0; i < 2; i++) cluster.fork(); } else { await import(${JSON.stringify(bundle)}); }\n`);
    const nodeSpawn = startNode([bundle], wdEnv({ port: String(nodeSpawnPort), fprocess: 'cat', spawner: 'node' }));
    const nodeSmall = startNode(['--max-semi-space-size=1', '--max-old-space-size=24', '--v8-pool-size=0', bundle], wdEnv({ port: String(nodeSmallPort), fprocess: 'cat', spawner: 'node' }));
    const clustered = startNode([clusterFile], wdEnv({ port: String(clusterPort), fprocess: 'cat', spawner: 'node' }));
    experiments.push(nodeSpawn, nodeSmall, clustered);
    cases.nodespawn = { url: `http://127.0.0.1:${nodeSpawnPort}/`, pids: () => [nodeSpawn.pid], roles: ['watchdog + cat'] };
    cases.nodesmall = { url: `http://127.0.0.1:${nodeSmallPort}/`, pids: () => [nodeSmall.pid], roles: ['watchdog + cat'] };
    cases.cluster2 = { url: `http://127.0.0.1:${clusterPort}/`, pids: () => [clustered.pid, ...childPids(clustered.pid)], roles: ['primary', 'worker 1 + cat', 'worker 2 + cat'] };
  }
  const goClassic = join(referenceDir, 'classic-watchdog');
  const goOf = join(referenceDir, 'of-watchdog');
  const haveReferences = existsSync(goClassic) && existsSync(goOf);
  if (haveReferences) {
    // of-watchdog splits fprocess at spaces: give it the echo server as a file.
    const echoFile = join(work, 'echo-server.cjs');
    writeFileSync(echoFile, ECHO_SERVER);
    cases.goclassic = { ...referenceCase(goClassic, goClassicPort, { fprocess: 'cat' }, `http://127.0.0.1:${goClassicPort}/`), roles: ['Go watchdog + cat'] };
    cases.goof = {
      ...referenceCase(goOf, goOfPort, { mode: 'http', upstream_url: `http://127.0.0.1:${goOfEchoPort}`, fprocess: `${process.execPath} ${echoFile}`, ECHO_PORT: String(goOfEchoPort) }, `http://127.0.0.1:${goOfPort}/`),
      roles: ['Go of-watchdog', 'echo'],
    };
  } else {
    console.log(`[bench] no reference watchdogs in ${referenceDir}: running ours only`);
  }
  for (const { url, before } of Object.values(cases)) if (!before) await waitAnswering(url);
  // Classic mode's cats are children of the watchdog (or of its spawner, or of a
  // cluster worker): count only the resident processes, found once, plus whatever
  // they waited for.
  for (const name of ['classic', 'cluster2']) {
    if (!cases[name]) continue;
    const resident = cases[name].pids().filter((pid) => !/^cat$/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', '')));
    cases[name].pids = () => resident;
  }
  if (process.env.BENCH_CASES) {
    const wanted = process.env.BENCH_CASES.split(',');
    for (const name of Object.keys(cases)) if (!wanted.includes(name)) delete cases[name];
  }

  const results = { machine: { node: process.version, cpus: cpus().length, loadAverage: loadavg() }, secondsPerCase: rounds * roundSeconds, cases: {}, cpuMicrosecondsPerRequest: {}, spawnAlone: {} };
  const names = Object.keys(cases);
  for (const c of concurrencies) {
    const acc = Object.fromEntries(names.map((n) => [n, { times: [], errors: 0, seconds: 0, ticks: [], perRound: [] }]));
    const spawnAcc = { spawns: 0, seconds: 0 };
    for (const n of names) {
      // warm-up, not counted
      await cases[n].before?.();
      await round(cases[n].url, c, { times: [], errors: 0, seconds: 0 }, cases[n].payload);
      await cases[n].after?.();
    }
    for (let r = 0; r < rounds; r++) {
      const order = names.map((_, i) => names[(i + r) % names.length]);
      for (const n of order) {
        await cases[n].before?.();
        const pids = cases[n].pids();
        const before = pids.map(cpuTicks);
        const count = acc[n].times.length;
        await round(cases[n].url, c, acc[n], cases[n].payload);
        acc[n].perRound.push(Math.round((acc[n].times.length - count) / roundSeconds));
        pids.forEach((pid, i) => (acc[n].ticks[i] = (acc[n].ticks[i] ?? 0) + cpuTicks(pid) - before[i]));
        await cases[n].after?.();
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
    results.cpuMicrosecondsPerRequest[c] = {};
    for (const n of names) {
      const a = acc[n];
      a.times.sort((x, y) => x - y);
      results.cases[c][n] = {
        requests: a.times.length,
        errors: a.errors,
        rps: Math.round(a.times.length / a.seconds),
        rpsPerRound: a.perRound,
        p50ms: +percentile(a.times, 50).toFixed(2),
        p99ms: +percentile(a.times, 99).toFixed(2),
      };
      results.cpuMicrosecondsPerRequest[c][n] = Object.fromEntries(
        cases[n].roles.map((role, i) => [role, +(((a.ticks[i] ?? 0) * TICK_US) / Math.max(1, a.times.length)).toFixed(0)]),
      );
    }
    console.log(`[bench] ${c} connection(s): ${JSON.stringify(results.cases[c])}`);
  }
  await Promise.all([bare, http, classic, mdBare, mdHttp, nullProxy, nullEcho, relay, relayEcho, ...experiments].map(stop));

  const ratio = (a, b) => (a === undefined || b === undefined ? undefined : +(a / b).toFixed(2));
  results.ratios = {};
  for (const c of concurrencies) {
    const r = results.cases[c];
    const rps = (n) => r[n]?.rps;
    results.ratios[c] = {
      httpVsBare: ratio(rps('http'), rps('bare')),
      classicVsBare: ratio(rps('classic'), rps('bare')),
      classicVsSpawnAlone: ratio(rps('classic'), results.spawnAlone[c].perSecond),
      markdownHttpVsBare: ratio(rps('mdhttp'), rps('mdbare')),
      nullProxyVsBare: ratio(rps('nullproxy'), rps('bare')),
      relayVsBare: ratio(rps('relay'), rps('bare')),
      httpVsNullProxy: ratio(rps('http'), rps('nullproxy')),
    };
    if (names.includes('goclassic')) {
      for (const n of ['classic', 'nodespawn', 'nodesmall', 'cluster2']) {
        if (r[n]) results.ratios[c][`${n}VsGoClassic`] = ratio(rps(n), rps('goclassic'));
      }
      results.ratios[c].classicP50VsGoClassic = ratio(r.classic?.p50ms, r.goclassic.p50ms);
    }
    if (names.includes('goof')) {
      results.ratios[c].httpVsGoOf = ratio(rps('http'), rps('goof'));
      results.ratios[c].httpP50VsGoOf = ratio(r.http?.p50ms, r.goof.p50ms);
    }
  }
  const at32 = results.ratios[32].httpVsBare;
  results.target = { httpVsBareAt32: 0.7, measured: at32, met: at32 >= 0.7 };
  if (names.includes('goclassic') && names.includes('classic')) {
    const met = concurrencies.every((c) => results.ratios[c].classicVsGoClassic >= 1 && results.cases[c].classic.p50ms <= results.cases[c].goclassic.p50ms);
    results.target.classicVsGoClassic = { wanted: '>= 1.0 at 1 and 32 connections, p50 no higher', met };
  }

  console.log('\nconns  case        req/s  (per round)                 p50 ms   p99 ms  errors  CPU us/request');
  for (const c of concurrencies) {
    for (const n of names) {
      const r = results.cases[c][n];
      const cpu = Object.entries(results.cpuMicrosecondsPerRequest[c][n]).map(([role, us]) => `${us} (${role})`).join(' + ');
      console.log(`${String(c).padStart(5)}  ${n.padEnd(9)} ${String(r.rps).padStart(7)}  ${`(${r.rpsPerRound.join(' ')})`.padEnd(26)} ${String(r.p50ms).padStart(8)} ${String(r.p99ms).padStart(8)} ${String(r.errors).padStart(7)}  ${cpu}`);
    }
  }
  const s = results.spawnAlone;
  console.log(`\nspawn of cat alone from Node (small fresh process, interleaved): ${s[1].perSecond}/s one at a time (${s[1].msEach} ms each), ${s[32].perSecond}/s 32 at a time`);
  for (const c of concurrencies) {
    const r = results.ratios[c];
    const cs = results.cases[c];
    console.log(`ratios at ${c} connection(s): http/bare ${r.httpVsBare}, classic/bare ${r.classicVsBare}, classic/spawn-alone ${r.classicVsSpawnAlone}, markdown http/bare ${r.markdownHttpVsBare}`);
    console.log(`  references: smallest Node HTTP proxy/bare ${r.nullProxyVsBare}, TCP relay/bare ${r.relayVsBare}; watchdog http/smallest proxy ${r.httpVsNullProxy}`);
    if (cs.goclassic && cs.classic) console.log(`  vs Go: classic/classic-watchdog ${r.classicVsGoClassic} (p50 ${cs.classic.p50ms} vs ${cs.goclassic.p50ms} ms)`);
    if (cs.goof && cs.http) console.log(`  vs Go: http/of-watchdog ${r.httpVsGoOf} (p50 ${cs.http.p50ms} vs ${cs.goof.p50ms} ms)`);
    const tried = ['nodespawn', 'nodesmall', 'cluster2'].filter((n) => r[`${n}VsGoClassic`] !== undefined);
    if (tried.length) console.log(`  classic mode tried other ways, vs classic-watchdog: ${tried.map((n) => `${n} ${r[`${n}VsGoClassic`]}`).join(', ')}`);
  }
  if (at32 !== undefined) console.log(`target http/bare >= 0.7 at 32 connections: ${results.target.met ? 'met' : 'NOT met'} (${results.target.measured})`);
  if (results.target.classicVsGoClassic) console.log(`target classic >= 1.0x classic-watchdog at 1 and 32 connections, p50 no higher: ${results.target.classicVsGoClassic.met ? 'met' : 'NOT met'}`);
  console.log(`load average before the run: ${results.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}, after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/watchdog.json'), `${JSON.stringify(results, null, 2)}\n`);
}

try {
  await main();
} finally {
  await Promise.all(children.map(stop));
  rmSync(work, { recursive: true, force: true });
}
