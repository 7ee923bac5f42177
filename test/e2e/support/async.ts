// Helpers of the asynchronous-invocation suites: a callback receiver that
// runs as a function on the stack's network (the watchdog's HTTP mode in
// front of a few lines of Node), so the queue worker reaches it as it would
// a user's receiver and the test reads what it got through the gateway; a
// function that always answers 503; and async calls.
import { deployFunction, keptCalls, waitForSwarmRunning } from './functions.js';
import { gatewayUrl, image, systemFetch, waitFor } from './gateway.js';

/** What the receiver kept of one request. */
export interface Received {
  method: string;
  url: string;
  callId: string | null;
  status: string | null;
  duration: string | null;
  deadLetter: string | null;
  attempts: string | null;
  contentType: string | null;
  /** The body, base64. */
  body: string;
  at: number;
}

// Keeps every request in memory; GET /calls?from=N answers those from the Nth on, GET /count how many.
const RECEIVER_JS = [
  "const http=require('http');const got=[];",
  'http.createServer((q,s)=>{const ch=[];q.on("data",c=>ch.push(c));q.on("end",()=>{',
  'const u=new URL(q.url,"http://r");',
  'if(q.method==="GET"&&u.pathname==="/calls"){const from=Number(u.searchParams.get("from")||0);s.setHeader("content-type","application/json");s.end(JSON.stringify(got.slice(from)));return}',
  'if(q.method==="GET"&&u.pathname==="/count"){s.end(String(got.length));return}',
  'if(q.method==="GET"&&u.pathname==="/ok"){s.end("ok");return}',
  'const h=(n)=>q.headers[n]===undefined?null:String(q.headers[n]);',
  'got.push({method:q.method,url:q.url,callId:h("x-call-id"),status:h("x-function-status"),duration:h("x-duration-seconds"),deadLetter:h("x-async-dead-letter"),attempts:h("x-async-attempts"),contentType:h("content-type"),body:Buffer.concat(ch).toString("base64"),at:Date.now()});',
  's.end("got it")})}).listen(3000)',
].join('');

// Answers every POST with 503 and counts them; GET /count says how many came.
const ALWAYS_503_JS = [
  "const http=require('http');let n=0;",
  'http.createServer((q,s)=>{q.resume();q.on("end",()=>{',
  'if(q.method==="GET"){s.end(String(n));return}',
  'n++;s.statusCode=503;s.end("busy, try later")})}).listen(3000)',
].join('');

// Answers each request with its own body after DELAY_MS: calls are in the worker's hands long enough to be cut by a kill.
// GET /max answers the most calls it had at once.
const SLOW_ECHO_JS = [
  "const http=require('http');const delay=Number(process.env.DELAY_MS||200);let now=0,max=0;",
  'http.createServer((q,s)=>{const ch=[];q.on("data",c=>ch.push(c));q.on("end",()=>{',
  'if(q.method==="GET"){s.end(q.url==="/max"?String(max):"ok");return}',
  'now++;max=Math.max(max,now);setTimeout(()=>{now--;s.end(Buffer.concat(ch))},delay)})}).listen(3000)',
].join('');

function nodeFunction(service: string, source: string, labels: Record<string, string>) {
  return {
    service,
    image: image('watchdog'),
    envProcess: 'node -e eval(process.env.FUNCTION_JS)',
    envVars: { mode: 'http', upstream_url: 'http://127.0.0.1:3000', FUNCTION_JS: source },
    labels: { 'com.openfaas.scale.zero': 'false', ...labels },
  };
}

/** Deploys a receiver the queue worker calls back by its service name. */
export async function deployReceiver(service: string, labels: Record<string, string> = {}): Promise<void> {
  await deployFunction(nodeFunction(service, RECEIVER_JS, labels));
  await waitForSwarmRunning(service);
}

export async function deploySlowEcho(service: string, delayMs: number, labels: Record<string, string> = {}): Promise<void> {
  const spec = nodeFunction(service, SLOW_ECHO_JS, labels);
  await deployFunction({ ...spec, envVars: { ...spec.envVars, DELAY_MS: String(delayMs) } });
}

/** Deployed like deployFunction, but ready once GET /count answers (every POST gets 503). */
export async function deployAlways503(service: string, labels: Record<string, string> = {}): Promise<void> {
  const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(nodeFunction(service, ALWAYS_503_JS, labels)) });
  if (res.status !== 202) throw new Error(`deploy ${service}: ${res.status} ${await res.text()}`);
  await waitFor(`${service} answering`, async () => ((await fetch(gatewayUrl(`/function/${service}/count`))).status === 200 ? true : undefined), 60_000, 250);
}

/** The URL the queue worker calls back on: the receiver's service name on the functions network. */
export function callbackUrl(receiver: string, path = '/cb'): string {
  return `http://${receiver}:8080${path}`;
}

export async function received(receiver: string, from = 0): Promise<Received[]> {
  return keptCalls<Received>(receiver, from);
}

export interface Accepted {
  status: number;
  callId: string | null;
  /** Retry-After of a refusal. */
  retryAfter: string | null;
  text: string;
  ms: number;
}

/** POST /async-function/<target>; `headers` may carry X-Callback-Url and X-Call-Id. */
export async function invokeAsync(target: string, body: string | Uint8Array, headers: Record<string, string> = {}, method = 'POST', timeoutMs = 15_000): Promise<Accepted> {
  const started = Date.now();
  try {
    const res = await fetch(gatewayUrl(`/async-function/${target}`), { method, body, headers, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, callId: res.headers.get('x-call-id'), retryAfter: res.headers.get('retry-after'), text: await res.text(), ms: Date.now() - started };
  } catch (error) {
    return { status: 0, callId: null, retryAfter: null, text: String((error as Error).cause ?? error), ms: Date.now() - started };
  }
}

/** One line of the asynchronous figures (grep "[async]" in the test output). */
export function report(line: string): void {
  process.stderr.write(`[async] ${line}\n`);
}
