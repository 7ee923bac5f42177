// Every setting of the gateway, read once from the environment and validated
// at start-up: a bad value stops the gateway with a message naming the variable.
import { parseDurationSeconds } from '@swarm-faas/duration';
import { z } from 'zod';
import { memoryBytes } from '../programs/gateway/api/quantities.js';

/** Seconds as a number ("30") or a Go-style duration ("30s", "2m", "500ms", "1m30s"). */
const seconds = z
  .string()
  .trim()
  .refine((text) => parseDurationSeconds(text) !== undefined, 'expected seconds, or a duration such as 500ms, 30s, 2m, 1m30s')
  .transform((text) => parseDurationSeconds(text)!);

const bool = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(true|false|1|0|yes|no)$/, 'expected true or false')
  .transform((text) => ['true', '1', 'yes'].includes(text));

const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A memory amount: 256Mi, 1Gi, 512M, 128m. */
const quantity = z
  .string()
  .trim()
  .refine((text) => memoryBytes(text) !== undefined, 'expected a memory amount such as 256Mi or 1Gi');

const bytes = z
  .string()
  .trim()
  .regex(/^\d+(b|kb|mb|gb)?$/i, 'expected bytes, e.g. 1048576, 512kb, 10mb')
  .transform(parseBytes);

const schema = z.object({
  PORT: integer(1, 65535).prefault('8080'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),

  // Orchestrator
  /** Which orchestrator the gateway drives (provider/index.ts). */
  PROVIDER: z.enum(['swarm']).prefault('swarm'),
  /** Overlay network new functions of the default namespace join; empty: the network the gateway's own functions use. */
  FUNCTIONS_NETWORK: z.string().trim().prefault(''),
  /**
   * How invocations reach a function: tasks (the default; "dnsrr" is its old
   * name): straight to the addresses of its ready tasks, read from the
   * orchestrator (works without IPVS); vip: to http://<service>:<port>, the
   * routing mesh balancing.
   */
  UPSTREAM_MODE: z
    .enum(['tasks', 'dnsrr', 'vip'])
    .prefault('tasks')
    .transform((mode) => (mode === 'dnsrr' ? 'tasks' : mode)),
  /** Endpoint mode of functions deployed through the API: how functions reach each other by name (dnsrr works without IPVS). */
  FUNCTION_ENDPOINT_MODE: z.enum(['dnsrr', 'vip']).prefault('dnsrr'),
  FUNCTION_PORT: integer(1, 65535).prefault('8080'),
  /** How often the orchestrator is read completely while watching: a task change on another node shows within this. */
  WATCH_INTERVAL: seconds.prefault('1s'),
  /** The namespace of a function named without one (what OpenFaaS clients send). */
  DEFAULT_NAMESPACE: z
    .string()
    .trim()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label')
    .prefault('openfaas-fn'),

  // HTTP
  UPSTREAM_TIMEOUT: seconds.prefault('60s'),
  /**
   * How long a new connection to a function instance may take before the
   * instance is left out for a while and the call goes to another one. A
   * connection within a cluster takes well under a millisecond; an address
   * whose task is gone (replaced, or on a node that died) never answers.
   */
  UPSTREAM_CONNECT_TIMEOUT: seconds.prefault('50ms'),
  /**
   * How long a call may wait for its answer before the gateway checks that
   * the instance still accepts connections (a node that died keeps its tasks
   * "running" in the orchestrator for seconds); 0: never check.
   */
  UPSTREAM_CHECK_AFTER: seconds.prefault('250ms'),
  /** Keep-alive connections per task at most; 0: no limit. */
  UPSTREAM_CONNECTIONS: integer(0, 10000).prefault('0'),
  READ_TIMEOUT: seconds.prefault('65s'),
  /**
   * Client connections held at once; beyond it a new one is closed at once.
   * Docker's port proxy in front of a published port holds six descriptors
   * per connection (two sockets, two pipes each way) and stops for good when
   * it runs out (20,000 here: about 3,300 connections): this keeps it well
   * below, with room for the connections it is still closing.
   */
  MAX_CONNECTIONS: integer(16, 1_000_000).prefault('1000'),
  /** After SIGTERM, how long calls in flight may take to finish before the gateway exits. */
  DRAIN_TIMEOUT: seconds.prefault('8s'),
  /** An idle keep-alive client connection is closed after this long. */
  KEEP_ALIVE_TIMEOUT: seconds.prefault('5s'),
  WRITE_TIMEOUT: seconds.prefault('65s'),
  /** Largest JSON body /system/* accepts (413 beyond). */
  SYSTEM_BODY_LIMIT: bytes.prefault('1mb'),
  /** Largest invocation body forwarded to a function (413 beyond); 0: no limit. */
  FUNCTION_BODY_LIMIT: bytes.prefault('64mb'),

  // Auth: with BASIC_AUTH=true, /system/* and /ui need the credentials in
  // SECRET_MOUNT_PATH/basic-auth-user and basic-auth-password (Docker secrets).
  BASIC_AUTH: bool.prefault('false'),
  /** Origins besides the gateway's own whose pages may change /system/* (the UI behind a proxy that rewrites Host), comma-separated. */
  ALLOWED_ORIGINS: z
    .string()
    .trim()
    .prefault('')
    .transform((text) => text.split(',').map((o) => o.trim().toLowerCase()).filter(Boolean)),
  SECRET_MOUNT_PATH: z.string().trim().prefault('/run/secrets'),

  // Scaling
  DEFAULT_MIN_REPLICAS: integer(0, 1000).prefault('1'),
  DEFAULT_MAX_REPLICAS: integer(1, 1000).prefault('20'),
  /** Replicas added per firing alert when a function sets no com.openfaas.scale.factor. */
  SCALE_STEP: integer(1, 1000).prefault('5'),
  /** A firing alert within this long of the function's last step up is a repeat delivery and does not step again. */
  SCALE_COOLDOWN: seconds.prefault('5s'),
  /** Scale functions labelled com.openfaas.scale.zero=true to 0 after this long without invocations. */
  SCALE_TO_ZERO: bool.prefault('true'),
  IDLE_TIMEOUT: seconds.prefault('5m'),
  IDLE_CHECK_INTERVAL: seconds.prefault('5s'),
  /** How long a request to a function at zero replicas waits for it to wake. */
  WAKE_TIMEOUT: seconds.prefault('30s'),
  /** Queue-depth scaling (com.openfaas.scale.type=queue): how often the backlog is read from JetStream... */
  QUEUE_SCALE_INTERVAL: seconds.prefault('1s'),
  /** ...and how long fewer replicas must have been wanted before a step down. */
  QUEUE_SCALE_DOWN_DELAY: seconds.prefault('10s'),

  // Monitoring: the gateway reads history and alerts for the UI from these
  // (GET /system/function/{name}/history, /system/functions/history, /system/overview).
  /** Prometheus' base URL, as the gateway reaches it on the stack's network. */
  PROMETHEUS_URL: z.url({ protocol: /^https?$/ }).prefault('http://prometheus:9090'),
  /** AlertManager's base URL (its API v2 gives the firing alerts). */
  ALERTMANAGER_URL: z.url({ protocol: /^https?$/ }).prefault('http://alertmanager:9093'),

  // Functions deployed through the API (functions/confinement.ts): defaults and the most an admin allows.
  /** Their root filesystem is read-only (a bounded tmpfs /tmp for writing) unless the deployment says otherwise... */
  FUNCTION_READ_ONLY_ROOT: bool.prefault('true'),
  /** ...which it may only with this on. */
  FUNCTION_ALLOW_WRITABLE_ROOT: bool.prefault('false'),
  /** Memory limit of a function whose deployment sets none. */
  FUNCTION_MEMORY_DEFAULT: quantity.prefault('256Mi'),
  /** The most memory a deployment may ask for. */
  FUNCTION_MEMORY_MAX: quantity.prefault('2Gi'),
  /** Processes (and threads) one function task may have at once. */
  FUNCTION_PIDS_LIMIT: integer(16, 100_000).prefault('256'),
  /** Size of the tmpfs /tmp of a function with a read-only root (it counts against its memory). */
  FUNCTION_TMP_SIZE: quantity.prefault('64Mi'),
  /** The user (uid[:gid]) functions run as, whatever their image says. */
  FUNCTION_USER: z
    .string()
    .trim()
    .regex(/^[1-9]\d{0,9}(:\d{1,10})?$/, 'expected a uid other than 0, as uid or uid:gid')
    .prefault('10001:10001'),
  /** Whether a function may run as its image's user (root included), with the label swarmfaas.run-as-image-user=true. */
  FUNCTION_ALLOW_ROOT: bool.prefault('false'),

  // Asynchronous invocations (gateway/src/async/ and the queue worker; see gateway/README.md)
  /** The NATS server(s) (JetStream) holding the queue; none: no asynchronous invocations (/async-function answers 503). */
  NATS_URL: z
    .string()
    .trim()
    .refine((text) => text === 'none' || text.split(',').every((part) => /^(nats|tls):\/\/[^\s/,]+$/.test(part.trim())), 'expected nats://host:port, comma-separated, or none')
    .transform((text) => (text === 'none' ? '' : text))
    .prefault('nats://nats:4222'),
  /** Largest body /async-function accepts (413 beyond); it is stored in NATS, whose max_payload must hold it. */
  ASYNC_BODY_LIMIT: bytes.prefault('1mb'),
  /** The JetStream stream of queued calls; dead letters go to "<name>-dead". */
  ASYNC_STREAM: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected letters, digits, - and _ (at most 32)')
    .prefault('faas-async'),
  /** Attempts per call (the first included) before a retryable failure (429, 502, 503, 504, no connection) becomes a dead letter. */
  ASYNC_MAX_ATTEMPTS: integer(1, 100).prefault('5'),
  /** Wait before the first retry; doubled per attempt up to ASYNC_RETRY_MAX_DELAY. */
  ASYNC_RETRY_DELAY: seconds.prefault('1s'),
  ASYNC_RETRY_MAX_DELAY: seconds.prefault('1m'),
  /** Concurrent asynchronous calls per function across all workers, unless its label com.openfaas.async.max-inflight says otherwise. */
  ASYNC_MAX_INFLIGHT: integer(1, 10000).prefault('10'),
  /** A call taken by a worker that stops answering NATS for this long is delivered again (to another worker); a worker at work says so every third of it. A worker killed with calls in hand holds its function's max-inflight slots this long. */
  ASYNC_ACK_WAIT: seconds.prefault('10s'),
  /** Per callback POST: its timeout, and how many times it is tried. */
  ASYNC_CALLBACK_TIMEOUT: seconds.prefault('10s'),
  ASYNC_CALLBACK_ATTEMPTS: integer(1, 20).prefault('3'),
  /** Hosts (names or IPs, comma-separated) callbacks may not go to, whatever name or address the URL gives them: the stack's own services. */
  ASYNC_CALLBACK_DENY_HOSTS: z.string().trim().prefault(''),
  /** Largest answer of a function the worker keeps for the callback (beyond, it is cut and X-Answer-Truncated: true). */
  ASYNC_ANSWER_LIMIT: bytes.prefault('10mb'),
  /** How long dead letters are kept. */
  ASYNC_DEAD_LETTER_MAX_AGE: seconds.prefault('168h'),

  /** Directory of the web UI's static files. */
  UI_DIR: z.string().trim().prefault(''),

  // The function store (programs/gateway/store/, routes/store.ts)
  /** Directory of the built-in catalog's records (<dir>/<function>/store.json); empty: no built-in entries. */
  STORE_DIR: z.string().trim().prefault(''),
  /** A catalog in the OpenFaaS store format the store page shows instead of the built-in one (an admin may choose another in the UI); empty: the built-in one. */
  STORE_URL: z
    .string()
    .trim()
    .refine((text) => text === '' || /^https?:\/\/[^\s]+$/.test(text), 'expected an http:// or https:// URL, or nothing')
    .prefault(''),
  /** Where the built-in catalog's images are (the stack's FAAS_REPO) and their tag (FAAS_TAG; empty: the gateway's version). */
  STORE_IMAGE_REPO: z.string().trim().prefault('swarmfaas'),
  STORE_IMAGE_TAG: z.string().trim().prefault(''),
});

export type Config = z.output<typeof schema>;

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(present[String(i.path[0])] ?? '')}: ${i.message}`);
    throw new ConfigError(`invalid gateway settings: ${problems.join('; ')}`);
  }
  return parsed.data;
}

export function parseBytes(text: string): number {
  const match = /^(\d+)(b|kb|mb|gb)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text}`);
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(match[2] ?? 'b').toLowerCase()]!;
  return Number(match[1]) * factor;
}
