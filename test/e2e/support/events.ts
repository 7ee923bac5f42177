// Helpers of the event suites: a recorder function (the watchdog's HTTP mode
// in front of a few lines of Node) that keeps every request it gets with
// the headers the connector sets, or forwards that record to another
// recorder (so a function that is updated or removed still leaves its record);
// publishing through POST /system/events; the connector's metrics.
import { containersOf, deployFunction, docker, keptCalls, waitForSwarmRunning } from './functions.js';
import { fn, gatewayUrl, image, systemFetch } from './gateway.js';

/** What the recorder kept of one request. */
export interface Record {
  topic: string | null;
  callId: string | null;
  scheduledAt: string | null;
  attempt: string | null;
  contentType: string | null;
  /** Every x-* header of the request. */
  x: { [name: string]: string };
  body: string;
  at: number;
}

// Keeps each request (or POSTs it to FORWARD_URL); answers "got:<body>"; DELAY_MS before answering.
// GET /calls?from=N answers the records from the Nth on, GET /count how many.
const RECORDER_JS = [
  "const http=require('http');const got=[];const delay=Number(process.env.DELAY_MS||0);const fwd=process.env.FORWARD_URL;",
  'http.createServer((q,s)=>{const ch=[];q.on("data",c=>ch.push(c));q.on("end",()=>{',
  'const u=new URL(q.url,"http://r");',
  'if(q.method==="GET"&&u.pathname==="/calls"){s.setHeader("content-type","application/json");s.end(JSON.stringify(got.slice(Number(u.searchParams.get("from")||0))));return}',
  'if(q.method==="GET"){s.end(String(got.length));return}',
  'const h=(n)=>q.headers[n]===undefined?null:String(q.headers[n]);const x={};for(const k in q.headers)if(k.startsWith("x-"))x[k]=String(q.headers[k]);',
  'const body=Buffer.concat(ch).toString();',
  'const rec={topic:h("x-topic"),callId:h("x-call-id"),scheduledAt:h("x-scheduled-at"),attempt:h("x-delivery-attempt"),contentType:h("content-type"),x,body,at:Date.now()};',
  'const answer=()=>{s.setHeader("content-type","text/plain");s.end("got:"+body)};',
  'setTimeout(()=>{if(!fwd){got.push(rec);answer();return}',
  'const r=http.request(fwd,{method:"POST",headers:{"content-type":"application/json"}},(a)=>{a.resume();a.on("end",answer)});r.on("error",()=>{s.statusCode=502;s.end("forward failed")});r.end(JSON.stringify(rec))',
  '},delay)})}).listen(3000)',
].join('');

// The sink of forwarded records: keeps the JSON each POST carries.
const SINK_JS = [
  "const http=require('http');const got=[];",
  'http.createServer((q,s)=>{const ch=[];q.on("data",c=>ch.push(c));q.on("end",()=>{',
  'const u=new URL(q.url,"http://r");',
  'if(q.method==="GET"&&u.pathname==="/calls"){s.setHeader("content-type","application/json");s.end(JSON.stringify(got.slice(Number(u.searchParams.get("from")||0))));return}',
  'if(q.method==="GET"){s.end(String(got.length));return}',
  'try{got.push(JSON.parse(Buffer.concat(ch).toString()))}catch{}s.end("ok")})}).listen(3000)',
].join('');

export function recorderSpec(service: string, options: { annotations?: { [k: string]: string }; labels?: { [k: string]: string }; delayMs?: number; forwardTo?: string } = {}) {
  return {
    service,
    image: image('watchdog'),
    envProcess: 'node -e eval(process.env.FUNCTION_JS)',
    envVars: {
      mode: 'http',
      upstream_url: 'http://127.0.0.1:3000',
      FUNCTION_JS: RECORDER_JS,
      ...(options.delayMs ? { DELAY_MS: String(options.delayMs) } : {}),
      ...(options.forwardTo ? { FORWARD_URL: `http://${options.forwardTo}:8080/` } : {}),
    },
    // One task, so its records are in one place (event load would otherwise scale it on the request rate).
    labels: { 'com.openfaas.scale.zero': 'false', 'com.openfaas.scale.max': '1', ...(options.labels ?? {}) },
    annotations: options.annotations ?? {},
  };
}

export async function deployRecorder(service: string, options: Parameters<typeof recorderSpec>[1] = {}): Promise<void> {
  await deployFunction(recorderSpec(service, options));
}

/** Deploys a sink other functions forward to by its service name. */
export async function deploySink(service: string): Promise<void> {
  await deployFunction({ ...recorderSpec(service), envVars: { mode: 'http', upstream_url: 'http://127.0.0.1:3000', FUNCTION_JS: SINK_JS } });
  await waitForSwarmRunning(service);
}

export async function records(service: string, from = 0): Promise<Record[]> {
  return keptCalls<Record>(service, from);
}

export interface Published {
  status: number;
  json: { delivery?: string; subscribers?: number; sequence?: number } | null;
  text: string;
  headers: Headers;
  ms: number;
}

/** POST /system/events/<subject>. */
export async function publish(subject: string, body: string, headers: { [k: string]: string } = {}, query = ''): Promise<Published> {
  const started = Date.now();
  try {
    const res = await systemFetch(`/system/events/${subject}${query}`, { method: 'POST', body, headers: { 'content-type': 'text/plain', ...headers }, signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text) as Published['json'];
    } catch {
      json = null;
    }
    return { status: res.status, json, text, headers: res.headers, ms: Date.now() - started };
  } catch (error) {
    return { status: 0, json: null, text: String((error as Error).cause ?? error), headers: new Headers(), ms: Date.now() - started };
  }
}

/** The running connector containers on this node. */
export async function connectors(): Promise<string[]> {
  return containersOf(fn('connector'));
}

/** One connector's /metrics. */
export async function connectorMetrics(id: string): Promise<string> {
  return docker('exec', id, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/metrics');
}

/** The sum over the lines of `text` that start with `prefix` (a metric name and the start of its labels). */
export function metricSum(text: string, prefix: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(prefix))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

/** One line of the event figures (grep "[events]" in the test output). */
export function report(line: string): void {
  process.stderr.write(`[events] ${line}\n`);
}
