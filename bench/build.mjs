#!/usr/bin/env node
// From code to a running function, measured on a deployed stack with its builder:
//   1. per template (node, python3, bash, dockerfile): submit -> first 200 answer
//      without the build cache (X-Build-No-Cache; the base images present), and
//      after a handler-only change (cache); the build context's size and the
//      image's (and what it adds to the watchdog's);
//   2. function calls (`cat` on the watchdog, one replica) while builds run:
//      failures, and the latency they add (p50/p99/max) over the same calls with no build;
//   3. the node template's handler in the watchdog's own process (module mode)
//      against the same handler in HTTP mode (a second Node.js process behind
//      the watchdog): memory per replica idle and under load, and requests/s,
//      measured in one run, interleaved (A B A B).
//
//   GATEWAY_URL=http://127.0.0.1:28080 STACK_NAME=bldtest node bench/build.mjs
//   (npm run bench -- build deploys a bench stack when GATEWAY_URL is not given)
//   LOAD_SECONDS [8] per load run; ROUNDS [2] interleaved rounds of 3; PARTS [templates,calls,modes].
//
// The build requests are made as faas-cli makes them (the template's folder plus
// the handler in function/, a tar with com.openfaas.docker.config) and signed with
// the builder's payload secret, read from the builder's container like the
// gateway's password. Functions (bench-build-*) and images are removed at the end.
// Writes bench/results/build.json.
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { createRequire } from 'node:module';
import autocannon from 'autocannon';
import { containerMemory, docker, gateway, healthyContainerUrl, MiB, root, sleep } from './_support.mjs';

// The tar library the builder itself uses (its workspace's dependency).
const tar = createRequire(join(root, 'builder', 'package.json'))('tar-stream');
const stack = process.env.STACK_NAME ?? 'func';
const loadSeconds = Number(process.env.LOAD_SECONDS ?? 8);
const rounds = Number(process.env.ROUNDS ?? 2);
const run = promisify(execFile);
const seconds = (ms) => +(ms / 1000).toFixed(1);
const LANGS = ['node', 'python3', 'bash', 'dockerfile'];

/** A secret of the stack, as its service's container sees it (undefined when the stack has none). */
async function stackSecret(service, file) {
  const id = (await docker('ps', '-q', '-f', `label=com.docker.swarm.service.name=${stack}_${service}`)).split('\n')[0];
  if (!id) return undefined;
  return docker('exec', id, 'cat', `/run/secrets/${file}`).catch(() => undefined);
}
const payloadSecret = await stackSecret('builder', 'payload-secret');
if (!payloadSecret) throw new Error(`no running ${stack}_builder with a payload secret: deploy the stack with its builder`);
// GATEWAY_AUTH (user:password) as the other benchmarks take it, else the stack's own password when it has auth.
const credentials = process.env.GATEWAY_AUTH ?? ((p) => (p ? `admin:${p}` : undefined))(await stackSecret('gateway', 'basic-auth-password'));
const auth = credentials ? { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` } : {};

// --- build requests as faas-cli makes them -------------------------------------------------

/** Files of a folder, relative paths to contents. */
function filesOf(dir, prefix = '') {
  const out = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) Object.assign(out, filesOf(path, `${prefix}${name}/`));
    else out[`${prefix}${name}`] = readFileSync(path);
  }
  return out;
}

/** The context faas-cli builds for a template: the template's folder, the handler in function/ (dockerfile: the handler alone). */
function contextOf(lang, handler) {
  const template = join(root, 'template', lang);
  if (lang === 'dockerfile') return { ...filesOf(join(template, 'function')), ...handler };
  const files = {};
  for (const [path, data] of Object.entries(filesOf(template))) if (!path.startsWith('function/')) files[path] = data;
  for (const [path, data] of Object.entries(filesOf(join(template, 'function')))) files[`function/${path}`] = data;
  for (const [path, data] of Object.entries(handler)) files[`function/${path}`] = data;
  return files;
}

async function requestTar(files, config) {
  const pack = tar.pack();
  const chunks = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk);
  })();
  for (const [name, data] of Object.entries(files)) pack.entry({ name: `context/${name}`, mode: name.endsWith('.sh') ? 0o755 : 0o644 }, data);
  pack.entry({ name: 'com.openfaas.docker.config' }, JSON.stringify(config));
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Submits a build; resolves when its last progress line arrives. */
async function build(body, { noCache = false } = {}) {
  const signature = `sha256=${createHmac('sha256', payloadSecret).update(body).digest('hex')}`;
  const res = await fetch(`${gateway}/build`, {
    method: 'POST',
    body,
    headers: { 'x-build-signature': signature, accept: 'application/x-ndjson', ...(noCache ? { 'x-build-no-cache': 'true' } : {}) },
  });
  const lines = (await res.text()).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
  const last = lines.at(-1);
  if (res.status !== 200 || last?.status !== 'success') throw new Error(`build failed (${res.status}): ${last?.error ?? ''}\n${lines.flatMap((l) => l.log).slice(-15).join('\n')}`);
  return last;
}

async function deploy(name, image, method = 'POST') {
  const res = await fetch(`${gateway}/system/functions`, {
    method,
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ service: name, image, labels: { 'com.openfaas.scale.zero': 'false' } }),
  });
  if (res.status !== 202 && res.status !== 200) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
}

async function remove(name) {
  await fetch(`${gateway}/system/functions`, { method: 'DELETE', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ functionName: name }) }).catch(() => undefined);
}

/** Polls the function until an answer is 200 and holds `expected`; resolves with the time. */
async function firstAnswer(name, expected, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${gateway}/function/${name}`, { method: 'POST', body: 'bench', signal: AbortSignal.timeout(5000) });
      if (res.status === 200 && (await res.text()).includes(expected)) return Date.now();
    } catch {
      // not there yet
    }
    await sleep(100);
  }
  throw new Error(`${name} did not answer "${expected}" within ${timeoutMs} ms`);
}

/** A handler per template that answers `marker`. */
function handler(lang, marker) {
  switch (lang) {
    case 'node':
      return { 'handler.js': `export default async (req) => ({ body: { marker: '${marker}', got: req.body } });\n` };
    case 'python3':
      return { 'handler.py': `def handle(req):\n    return {"body": {"marker": "${marker}", "got": req.body}}\n` };
    case 'bash':
      return { 'handler.sh': `#!/usr/bin/env bash\necho "${marker} $(cat)"\n` };
    default:
      return {
        Dockerfile: 'ARG WATCHDOG_IMAGE=swarmfaas/watchdog:0.1.0\nFROM ${WATCHDOG_IMAGE}\nCOPY handler.sh /home/app/handler.sh\nENV fprocess="sh /home/app/handler.sh"\n',
        'handler.sh': `#!/bin/sh\necho "${marker} $(cat)"\n`,
      };
  }
}

// --- 1. submit -> first 200, per template ---------------------------------------------------------

async function template(lang) {
  const name = `bench-build-${lang}`;
  const image = `${name}:latest`;
  await remove(name);
  // Cold: every step runs (X-Build-No-Cache); the base images are on the engine.
  const first = `first-${Date.now()}`;
  const coldBody = await requestTar(contextOf(lang, handler(lang, first)), { image });
  const coldStart = Date.now();
  const cold = await build(coldBody, { noCache: true });
  const coldBuilt = Date.now();
  await deploy(name, image);
  const coldAnswer = await firstAnswer(name, first);
  // A handler-only change: the cache serves every layer before the handler's; the function rolls.
  const second = `second-${Date.now()}`;
  const warmBody = await requestTar(contextOf(lang, handler(lang, second)), { image });
  const warmStart = Date.now();
  await build(warmBody);
  const warmBuilt = Date.now();
  await deploy(name, image, 'PUT');
  const warmAnswer = await firstAnswer(name, second);
  const watchdogSize = Number(await docker('image', 'inspect', '-f', '{{.Size}}', await watchdogImage()));
  const size = Number(await docker('image', 'inspect', '-f', '{{.Size}}', image));
  return {
    lang,
    coldSeconds: seconds(coldAnswer - coldStart),
    coldBuildSeconds: seconds(coldBuilt - coldStart),
    handlerChangeSeconds: seconds(warmAnswer - warmStart),
    handlerChangeBuildSeconds: seconds(warmBuilt - warmStart),
    contextKiB: +(coldBody.length / 1024).toFixed(1),
    imageMB: +(size / 1e6).toFixed(1),
    overWatchdogMB: +((size - watchdogSize) / 1e6).toFixed(1),
    builderSeconds: cold.duration,
  };
}

/** The watchdog image the stack's builder builds FROM (its BUILD_ARGS). */
let watchdogCache;
async function watchdogImage() {
  if (watchdogCache) return watchdogCache;
  const id = (await docker('ps', '-q', '-f', `label=com.docker.swarm.service.name=${stack}_builder`)).split('\n')[0];
  const env = JSON.parse(await docker('inspect', id, '-f', '{{json .Config.Env}}'));
  const args = env.find((e) => e.startsWith('BUILD_ARGS='))?.slice('BUILD_ARGS='.length) ?? '';
  watchdogCache = /WATCHDOG_IMAGE=([^,]+)/.exec(args)?.[1] ?? 'swarmfaas/watchdog:0.1.0';
  return watchdogCache;
}

// --- 2. function calls while builds run -----------------------------------------------------------

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN;
};

/** The function whose calls are timed: `cat` on the stack's watchdog, one replica (the autoscaler kept out). */
const PROBE = 'bench-build-probe';

async function callsWhile(work, { maxMs }) {
  const target = PROBE;
  await firstAnswer(target, 'bench'); // answering before anything is measured
  const samples = [];
  let running = true;
  const deadline = Date.now() + maxMs;
  const loop = (async () => {
    while (running && Date.now() < deadline) {
      const t = performance.now();
      try {
        const res = await fetch(`${gateway}/function/${target}`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(10_000) });
        await res.arrayBuffer();
        samples.push({ ok: res.status === 200, ms: performance.now() - t });
      } catch {
        samples.push({ ok: false, ms: performance.now() - t });
      }
      await sleep(50);
    }
  })();
  await work();
  running = false;
  await loop;
  const ms = samples.map((s) => s.ms);
  return { calls: samples.length, failed: samples.filter((s) => !s.ok).length, p50: +percentile(ms, 50).toFixed(1), p99: +percentile(ms, 99).toFixed(1), max: +Math.max(...ms).toFixed(1) };
}

async function starvation() {
  const res = await fetch(`${gateway}/system/functions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth },
    body: JSON.stringify({ service: PROBE, image: await watchdogImage(), envProcess: 'cat', labels: { 'com.openfaas.scale.min': '1', 'com.openfaas.scale.max': '1', 'com.openfaas.scale.zero': 'false' } }),
  });
  if (res.status !== 202 && res.status !== 409) throw new Error(`deploying ${PROBE}: ${res.status} ${await res.text()}`);
  const idle = await callsWhile(() => sleep(15_000), { maxMs: 15_000 });
  const during = await callsWhile(async () => {
    for (const lang of ['node', 'python3']) {
      await build(await requestTar(contextOf(lang, handler(lang, `load-${Date.now()}`)), { image: `bench-build-load-${lang}:1` }), { noCache: true });
    }
  }, { maxMs: 300_000 });
  for (const lang of ['node', 'python3']) await docker('image', 'rm', `bench-build-load-${lang}:1`).catch(() => undefined);
  // A task Swarm replaced meanwhile (a health check that timed out on a loaded machine) explains a failed call.
  const replaced = (await docker('service', 'ps', '-q', PROBE).catch(() => '')).split('\n').filter(Boolean).length - 1;
  return { idle, during, addedP50: +(during.p50 - idle.p50).toFixed(1), addedP99: +(during.p99 - idle.p99).toFixed(1), probeTasksReplaced: replaced };
}

// --- 3. the node handler in process vs in HTTP mode -----------------------------------------------

/** The same handler served by a Node.js server of its own, for the watchdog's HTTP mode (what module mode replaces). */
const HTTP_SERVER = `
import { createServer } from 'node:http';
import handle from './function/handler.js';
createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  const body = /json/.test(type) ? JSON.parse(raw.toString() || 'null') : raw.toString();
  const url = new URL(req.url, 'http://x');
  const out = await handle({ method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, body, rawBody: raw });
  const data = Buffer.from(typeof out.body === 'string' ? out.body : JSON.stringify(out.body));
  res.writeHead(out.status ?? 200, { 'content-type': 'application/json', 'content-length': data.length, ...(out.headers ?? {}) });
  res.end(data);
}).listen(3000, '127.0.0.1');
`;

async function serveAndLoad(image, label) {
  const container = `bench-build-${label}-${process.pid}`;
  // As the gateway runs functions: read-only root, a tmpfs /tmp, uid 10001.
  const id = await docker('run', '-d', '--name', container, '--read-only', '--tmpfs', '/tmp', '-u', '10001:10001', '-p', '127.0.0.1::8080', image);
  try {
    const url = await healthyContainerUrl(container);
    const payload = JSON.stringify({ name: 'bench', items: [1, 2, 3] });
    const first = await fetch(url, { method: 'POST', body: payload, headers: { 'content-type': 'application/json' } });
    if (first.status !== 200) throw new Error(`${label}: ${first.status} ${await first.text()}`);
    await sleep(2000);
    const idle = containerMemory(id).used;
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, containerMemory(id).used)), 50);
    const result = await autocannon({ url, method: 'POST', body: payload, headers: { 'content-type': 'application/json' }, connections: 32, duration: loadSeconds });
    clearInterval(sampler);
    return { idleMiB: MiB(idle), peakMiB: MiB(peak), requestsPerSecond: Math.round(result.requests.average), errors: result.errors + result.non2xx, p99ms: result.latency.p99 };
  } finally {
    await docker('rm', '-f', container).catch(() => undefined);
  }
}

async function inProcessVsHttp() {
  const moduleImage = 'bench-build-node:latest';
  const httpImage = 'bench-build-node-http:latest';
  // The node template's image (part 1 leaves it; built here when part 1 did not run).
  if (!(await docker('image', 'ls', '-q', moduleImage))) await build(await requestTar(contextOf('node', handler('node', 'modes')), { image: moduleImage }));
  // The HTTP-mode image: the same image, the same handler, served by its own Node.js process.
  const dir = join(root, 'bench', 'results', 'node-http');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'server.mjs'), HTTP_SERVER);
  writeFileSync(join(dir, 'Dockerfile'), `FROM ${moduleImage}\nCOPY server.mjs /home/app/server.mjs\nENV mode=http fprocess="node /home/app/server.mjs" upstream_url=http://127.0.0.1:3000\n`);
  await run('docker', ['build', '-q', '-t', httpImage, dir], { env: { ...process.env, DOCKER_BUILDKIT: '0' } });
  const runs = { module: [], http: [] };
  for (let round = 0; round < rounds; round++) {
    for (const [label, image] of [['module', moduleImage], ['http', httpImage]]) {
      const result = await serveAndLoad(image, label);
      runs[label].push(result);
      console.log(`  round ${round + 1} ${label}: ${result.requestsPerSecond} req/s, idle ${result.idleMiB} MiB, peak ${result.peakMiB} MiB, p99 ${result.p99ms} ms, errors ${result.errors}`);
    }
  }
  await docker('image', 'rm', httpImage).catch(() => undefined);
  const median = (list, key) => percentile(list.map((r) => r[key]), 50);
  const summary = (label) => ({ requestsPerSecond: median(runs[label], 'requestsPerSecond'), idleMiB: median(runs[label], 'idleMiB'), peakMiB: median(runs[label], 'peakMiB'), runs: runs[label] });
  const module = summary('module');
  const http = summary('http');
  return { module, http, throughputRatio: +(module.requestsPerSecond / http.requestsPerSecond).toFixed(2), peakMemoryRatio: +(module.peakMiB / http.peakMiB).toFixed(2) };
}

// --- main -------------------------------------------------------------------------------------------

// PARTS=templates,calls,modes (all by default) runs some of them.
const parts = new Set((process.env.PARTS ?? 'templates,calls,modes').split(','));
const results = { at: new Date().toISOString(), gateway, stack, loadSeconds, rounds, templates: [] };
try {
  if (parts.has('templates')) console.log('submit -> first 200 per template (cold: no build cache, base images present; then a handler-only change)');
  for (const lang of parts.has('templates') ? LANGS : []) {
    const r = await template(lang);
    results.templates.push(r);
    console.log(
      `  ${lang.padEnd(10)} cold ${r.coldSeconds} s (build ${r.coldBuildSeconds} s), handler change ${r.handlerChangeSeconds} s (build ${r.handlerChangeBuildSeconds} s); context ${r.contextKiB} KiB, image ${r.imageMB} MB (+${r.overWatchdogMB} MB over the watchdog)`,
    );
  }
  if (parts.has('calls')) {
    console.log(`function calls (${PROBE}, ~20/s) idle, then while a node and a python3 build run without cache`);
    results.starvation = await starvation();
    const s = results.starvation;
    console.log(`  idle:   ${s.idle.calls} calls, ${s.idle.failed} failed, p50 ${s.idle.p50} ms, p99 ${s.idle.p99} ms, max ${s.idle.max} ms`);
    console.log(`  builds: ${s.during.calls} calls, ${s.during.failed} failed, p50 ${s.during.p50} ms, p99 ${s.during.p99} ms, max ${s.during.max} ms (added p99 ${s.addedP99} ms); the function's task replaced ${s.probeTasksReplaced} times`);
  }
  if (parts.has('modes')) {
    console.log(`node handler in the watchdog's process (module mode) vs HTTP mode (a second Node.js process), ${rounds} rounds of ${loadSeconds} s, 32 connections`);
    results.nodeModes = await inProcessVsHttp();
    const m = results.nodeModes;
    console.log(`  module: ${m.module.requestsPerSecond} req/s, idle ${m.module.idleMiB} MiB, peak ${m.module.peakMiB} MiB`);
    console.log(`  http:   ${m.http.requestsPerSecond} req/s, idle ${m.http.idleMiB} MiB, peak ${m.http.peakMiB} MiB`);
    console.log(`  module/http: ${m.throughputRatio}x the requests/s, ${m.peakMemoryRatio}x the peak memory`);
  }
} finally {
  for (const lang of LANGS) await remove(`bench-build-${lang}`);
  await remove(PROBE);
  await sleep(3000);
  for (const lang of LANGS) await docker('image', 'rm', `bench-build-${lang}:latest`).catch(() => undefined);
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  writeFileSync(join(root, 'bench', 'results', 'build.json'), JSON.stringify(results, null, 2));
  console.log(`results in ${relative(root, join(root, 'bench', 'results', 'build.json'))}`);
}
