// Every setting of the gateway, read once from the environment and validated
// at start-up: a bad value stops the gateway with a message naming the
// variable. The groups other programs read too are core/settings.ts's.
import { z } from 'zod';
import { bool, bytes, integer, invocationSettings, loadSettings, programSettings, queueSettings, rabbitmqSettings, seconds, SettingsError } from '../../core/settings.js';
import { memoryBytes } from './api/quantities.js';

/** A memory amount: 256Mi, 1Gi, 512M, 128m. */
const quantity = z
  .string()
  .trim()
  .refine((text) => memoryBytes(text) !== undefined, 'expected a memory amount such as 256Mi or 1Gi');

const schema = z.object({
  ...programSettings,
  ...invocationSettings,
  ...queueSettings,
  ...rabbitmqSettings,

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
  /** Queue-depth scaling (com.openfaas.scale.type=queue): how often the backlog is read from JetStream... */
  QUEUE_SCALE_INTERVAL: seconds.prefault('1s'),
  /** ...and how long fewer replicas must have been wanted before a step down. */
  QUEUE_SCALE_DOWN_DELAY: seconds.prefault('10s'),
  /** Capacity scaling (com.openfaas.scale.type=capacity): how often the demand is looked at (the load reports come every 500 ms)... */
  CAPACITY_SCALE_INTERVAL: seconds.prefault('1s'),
  /** ...the window whose average demand sizes the function, and that must pass without a burst before it steps down (Knative's stable window)... */
  CAPACITY_STABLE_WINDOW: seconds.prefault('60s'),
  /** ...and the window a burst is judged on (Knative's panic window: 10 % of the stable one). */
  CAPACITY_PANIC_WINDOW: seconds.prefault('6s'),

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

  /** Largest body /async-function accepts (413 beyond); it is stored in NATS, whose max_payload must hold it. */
  ASYNC_BODY_LIMIT: bytes.prefault('1mb'),

  /** The stack's builder (POST /system/build and /build relay to it, routes/build.ts); empty: no builder, those answer 503. A trailing slash is dropped. */
  BUILDER_URL: z
    .string()
    .trim()
    .refine((text) => text === '' || /^https?:\/\/[^\s/]+\/?$/.test(text), 'expected http://host:port, or empty for none')
    .transform((text) => text.replace(/\/$/, ''))
    .prefault(''),
  /** The builder's BUILD_MAX_CONTEXT: a build request that declares more is refused here with 413 (see routes/build.ts). */
  BUILD_MAX_CONTEXT: bytes.prefault('100mb'),

  // Functions written in the browser (routes/source.ts)
  /** Directory of the function templates (template/<language>/); empty: none, the New function page has nothing to offer. */
  TEMPLATE_DIR: z.string().trim().prefault(''),
  /** Where the images of functions written in the browser go: a registry prefix the builder pushes to (BUILD_PUSH_PREFIXES), or empty. */
  SOURCE_IMAGE_PREFIX: z
    .string()
    .trim()
    .refine((text) => text === '' || /^[a-z0-9][a-z0-9.:_/-]*\/$/.test(text), 'expected a prefix ending with / (e.g. 127.0.0.1:5000/), or empty')
    .prefault(''),
  /** The repository name those images start with: <prefix><name>-<function>:<build>. */
  SOURCE_IMAGE_NAME: z
    .string()
    .trim()
    .regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*$/, 'expected a lowercase image name part')
    .prefault('func-src'),

  /** Directory of the web UI's static files. */
  UI_DIR: z.string().trim().prefault(''),

  // The function store (store/, routes/store.ts)
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

/** A bad gateway setting (the message names the variable). */
export { SettingsError as ConfigError };

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return loadSettings(schema, env, 'gateway settings');
}
