// What the benchmark scripts that run against a deployed stack share: where
// the stack is, its API, waiting for a condition, the functions they deploy
// (the watchdog's HTTP mode in front of a small server of their own) and
// percentiles; for those running containers of their own (build, footprint),
// docker, a container's health; and a container's memory, CPU time and main
// process (memory, trigger-settings). (run.mjs runs every
// bench/<name>.mjs but this one.)
//
// Environment every script using it reads: GATEWAY_URL [http://127.0.0.1:8080];
// GATEWAY_AUTH ("user:password" when the gateway has basic auth);
// WATCHDOG_IMAGE [swarmfaas/watchdog:<FAAS_TAG or version>]; and, for those
// comparing two paths in alternating rounds (async, events, rabbitmq),
// BENCH_DURATION seconds per case [6] in BENCH_ROUNDS [3], BENCH_CONNECTIONS
// [32], BENCH_LOW [200] calls or messages at low load.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import autocannon from 'autocannon';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
export const gateway = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const auth = process.env.GATEWAY_AUTH ? { authorization: `Basic ${Buffer.from(process.env.GATEWAY_AUTH).toString('base64')}` } : {};
export const watchdogImage = process.env.WATCHDOG_IMAGE ?? `swarmfaas/watchdog:${process.env.FAAS_TAG || version}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The rounds of the scripts that compare two paths: seconds per case, rounds, connections, calls at low load. */
export const roundSettings = {
  duration: Number(process.env.BENCH_DURATION ?? 6),
  rounds: Number(process.env.BENCH_ROUNDS ?? 3),
  connections: Number(process.env.BENCH_CONNECTIONS ?? 32),
  lowCount: Number(process.env.BENCH_LOW ?? 200),
};

/** POSTs `body` to `url` on `roundSettings.connections` connections for `seconds`; counts the answers with `status`, and the rest as errors. */
export async function countedLoad(url, seconds, status, body, headers = {}) {
  const instance = autocannon({ url, connections: roundSettings.connections, duration: seconds, method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers } });
  let ok = 0;
  instance.on('response', (_client, statusCode) => {
    if (statusCode === status) ok++;
  });
  const result = await instance;
  return { ok, errors: result.errors + result.timeouts + (result.requests.total - ok) };
}

/** A request to /system/* with the stack's credentials. */
export async function system(method, path, json) {
  const res = await fetch(`${gateway}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: json === undefined ? undefined : JSON.stringify(json) });
  return { status: res.status, text: await res.text() };
}

/** Polls `probe` until it answers something other than undefined. */
export async function until(what, probe, timeoutMs = 90_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch {
      // not yet
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a');

/** An HTTP-mode function running `js` (a small server on 127.0.0.1:3000 in the task). */
export function httpFunction(service, js, extra = {}) {
  return { service, image: watchdogImage, envProcess: 'node -e eval(process.env.FUNCTION_JS)', envVars: { mode: 'http', upstream_url: 'http://127.0.0.1:3000', FUNCTION_JS: js }, ...extra };
}

/** The echo server: answers the body it was sent. */
export const ECHO_JS = "require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d));q.on('end',()=>s.end(Buffer.concat(c)))}).listen(3000,'127.0.0.1')";

/**
 * A server that keeps [first 40 characters of the body, arrival ms, X-Call-Id, X-Function-Status]
 * per request; GET /calls?from=N answers those from the Nth on, GET /count how many.
 */
export const KEEPER_JS =
  "const got=[];require('http').createServer((q,s)=>{const c=[];q.on('data',d=>c.push(d));q.on('end',()=>{const u=new URL(q.url,'http://r');" +
  "if(q.method==='GET'&&u.pathname==='/calls'){s.setHeader('content-type','application/json');s.end(JSON.stringify(got.slice(Number(u.searchParams.get('from')||0))));return}" +
  "if(q.method==='GET'){s.end(String(got.length));return}got.push([Buffer.concat(c).toString().slice(0,40),Date.now(),q.headers['x-call-id'],q.headers['x-function-status']]);s.end('ok')})}).listen(3000,'127.0.0.1')";

/** What a keeper function has kept, from the Nth request on. */
export async function kept(fn, from = 0) {
  const res = await fetch(`${gateway}/function/${fn}/calls?from=${from}`, { signal: AbortSignal.timeout(30_000) });
  if (res.status !== 200) throw new Error(`${fn} answered ${res.status}`);
  return res.json();
}

/** Deploys (replacing one of the name) and waits until it answers. */
export async function deploy(spec) {
  await system('DELETE', '/system/functions', { functionName: spec.service });
  const res = await system('POST', '/system/functions', spec);
  if (res.status !== 202) throw new Error(`deploy ${spec.service}: ${res.status} ${res.text}`);
  await until(`${spec.service} answering`, async () => ((await fetch(`${gateway}/function/${spec.service}/count`, { signal: AbortSignal.timeout(5_000) })).status === 200 ? true : undefined));
}

/**
 * Samples the wanted and ready replicas `read()` answers (a function's state)
 * every `everyMs`, each at t seconds since `originMs` (a performance.now());
 * a failed read is a gap. stop() ends it.
 */
export function sampleReplicas(read, originMs, everyMs) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        const s = await read();
        samples.push({ t: (performance.now() - originMs) / 1000, replicas: s.replicas, ready: s.availableReplicas });
      } catch {
        // a gap in the timeline
      }
      await sleep(everyMs);
    }
  })();
  return {
    samples,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

const run = promisify(execFile);
/** The host's docker CLI; answers its output, trimmed. */
export const docker = async (...args) => (await run('docker', args, { maxBuffer: 16 << 20 })).stdout.trim();
export const MiB = (bytes) => +(bytes / 2 ** 20).toFixed(1);

/** Waits (60 s at most) until the watchdog of a container started with `-p 127.0.0.1::8080` is ready (as the gateway asks it: GET /_/health); answers its URL. */
export async function healthyContainerUrl(container) {
  const port = (await docker('port', container, '8080')).split('\n')[0].split(':').pop();
  const deadline = Date.now() + 60_000;
  const ready = () => fetch(`http://127.0.0.1:${port}/_/health`, { signal: AbortSignal.timeout(1000) }).then((res) => res.status === 200, () => false);
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`${container} did not become ready`);
    await sleep(250);
  }
  return `http://127.0.0.1:${port}/`;
}

/** A container's cgroup directory on this node: v1 under `controller`, or v2's unified one; undefined when there is none here. */
function cgroupOf(id, controller) {
  const v1 = `/sys/fs/cgroup/${controller}/docker/${id}`;
  if (existsSync(v1)) return { dir: v1, v2: false };
  for (const dir of [`/sys/fs/cgroup/system.slice/docker-${id}.scope`, `/sys/fs/cgroup/docker/${id}`]) {
    if (existsSync(dir)) return { dir, v2: true };
  }
  return undefined;
}

/** The container's memory as `docker stats` counts it (cgroup v1 or v2): `used`, usage less inactive file pages; `rss`, its anonymous memory. */
export function containerMemory(id) {
  const cgroup = cgroupOf(id, 'memory');
  if (!cgroup) throw new Error(`no cgroup found for container ${id}`);
  const usage = Number(readFileSync(`${cgroup.dir}/${cgroup.v2 ? 'memory.current' : 'memory.usage_in_bytes'}`, 'utf8'));
  const stat = readFileSync(`${cgroup.dir}/memory.stat`, 'utf8');
  const field = (name) => Number(new RegExp(`^${cgroup.v2 ? '' : 'total_'}${name} (\\d+)$`, 'm').exec(stat)?.[1] ?? 0);
  return { used: usage - field('inactive_file'), rss: field(cgroup.v2 ? 'anon' : 'rss') };
}

/** The CPU time (ns) the container has used so far (cgroup v1 or v2), or undefined when its cgroup is not here. */
export function containerCpuNs(id) {
  const cgroup = cgroupOf(id, 'cpuacct');
  if (!cgroup) return undefined;
  if (!cgroup.v2) return Number(readFileSync(`${cgroup.dir}/cpuacct.usage`, 'utf8'));
  const usec = /^usage_usec (\d+)$/m.exec(readFileSync(`${cgroup.dir}/cpu.stat`, 'utf8'));
  return usec ? Number(usec[1]) * 1000 : undefined;
}

/** The container's largest process by resident memory (its main program, whatever runs as PID 1): pid, rss, anon, pss (bytes), command; needs root on the container's node. */
export async function mainProcess(id) {
  const pid = Number(await docker('inspect', id, '--format', '{{.State.Pid}}'));
  const pids = [pid, ...readChildren(pid)];
  let best;
  for (const p of pids) {
    try {
      const status = readFileSync(`/proc/${p}/status`, 'utf8');
      const kB = (text, field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
      const rss = kB(status, 'VmRSS');
      const command = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      // Pss: the process's share of pages it shares with others (the node binary's pages are shared by every service run from the same image).
      if (!best || rss > best.rss) best = { pid: p, rss, anon: kB(status, 'RssAnon'), pss: kB(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'), 'Pss'), command };
    } catch {
      // gone meanwhile
    }
  }
  return best;
}

function readChildren(pid) {
  const out = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    let children = '';
    try {
      children = readFileSync(`/proc/${p}/task/${p}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.split(/\s+/).filter(Boolean).map(Number)) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}
