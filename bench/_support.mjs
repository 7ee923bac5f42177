// What the benchmark scripts that run against a deployed stack share: where
// the stack is, its API, waiting for a condition, the functions they deploy
// (the watchdog's HTTP mode in front of a small server of their own) and
// percentiles. (run.mjs runs every bench/<name>.mjs but this one.)
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
export const gateway = (process.env.GATEWAY_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
export const auth = process.env.GATEWAY_AUTH ? { authorization: `Basic ${Buffer.from(process.env.GATEWAY_AUTH).toString('base64')}` } : {};
export const watchdogImage = process.env.WATCHDOG_IMAGE ?? `swarmfaas/watchdog:${process.env.FAAS_TAG || version}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
