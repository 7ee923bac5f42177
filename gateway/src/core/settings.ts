// What every program's settings are made of: the value grammars (seconds,
// booleans, whole numbers, sizes) and the groups of settings that more than
// one program reads, each setting defined once. Each program builds its own
// schema from these (programs/<name>/settings.ts) and reads it once at start:
// a bad value stops the program with a message naming the variable.
import { parseDurationSeconds } from '@swarm-faas/duration';
import { z } from 'zod';

/** Seconds as a number ("30") or a Go-style duration ("30s", "2m", "500ms", "1m30s"). */
export const seconds = z
  .string()
  .trim()
  .refine((text) => parseDurationSeconds(text) !== undefined, 'expected seconds, or a duration such as 500ms, 30s, 2m, 1m30s')
  .transform((text) => parseDurationSeconds(text)!);

export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(true|false|1|0|yes|no)$/, 'expected true or false')
  .transform((text) => ['true', '1', 'yes'].includes(text));

export const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const bytes = z
  .string()
  .trim()
  .regex(/^\d+(b|kb|mb|gb|ki|mi|gi)?$/i, 'expected bytes, e.g. 1048576, 512kb, 10mb, 64Mi')
  .transform(parseBytes);

export function parseBytes(text: string): number {
  const match = /^(\d+)(b|kb|mb|gb|ki|mi|gi)?$/i.exec(text.trim());
  if (!match) throw new Error(`not a size: ${text}`);
  const unit = (match[2] ?? 'b').toLowerCase().replace(/^(k|m|g)i$/, '$1b');
  const factor = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[unit]!;
  return Number(match[1]) * factor;
}

/** An address, or none (read as ''): `valid` says which text is one, `expected` how the error names the form. */
const addressOrNone = (valid: (text: string) => boolean, expected: string) =>
  z
    .string()
    .trim()
    .refine((text) => text === 'none' || valid(text), `expected ${expected}, or none`)
    .transform((text) => (text === 'none' ? '' : text));

/** http(s)://host:port (a trailing slash dropped), or none. */
const httpBaseOrNone = (expected: string) => addressOrNone((text) => /^https?:\/\/[^\s/]+\/?$/.test(text), expected).transform((text) => text.replace(/\/$/, ''));

/** Every program: where it listens (/metrics, /healthz; the gateway's API) and how much it logs. */
export const programSettings = {
  PORT: integer(1, 65535).prefault('8080'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).prefault('info'),
  /** How often the program looks whether to give memory back while idle (core/memory-reducer.ts); 0: never. */
  MEMORY_REDUCE_INTERVAL: seconds.prefault('10s'),
  /** How long the event loop must have been nearly idle before the program gives memory back (rounded up to whole intervals). */
  MEMORY_REDUCE_QUIET: seconds.prefault('60s'),
  /** The namespace of a function named without one (what OpenFaaS clients send). */
  DEFAULT_NAMESPACE: z
    .string()
    .trim()
    .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'expected a lower-case DNS label')
    .prefault('openfaas-fn'),
};

/** Every program that invokes functions (the invocation core and the upstream). */
export const invocationSettings = {
  UPSTREAM_TIMEOUT: seconds.prefault('60s'),
  /**
   * How long a new connection to a function instance may take before the
   * instance is left out for a while and the call goes to another one. A
   * connection within a cluster takes well under a millisecond; an address
   * whose task is gone (replaced, or on a node that died) never answers.
   */
  UPSTREAM_CONNECT_TIMEOUT: seconds.prefault('50ms'),
  /**
   * How long a call may wait for its answer before the program checks that
   * the instance still accepts connections (a node that died keeps its tasks
   * "running" in the orchestrator for seconds); 0: never check.
   */
  UPSTREAM_CHECK_AFTER: seconds.prefault('250ms'),
  /** Keep-alive connections per task at most; 0: no limit. */
  UPSTREAM_CONNECTIONS: integer(0, 10000).prefault('0'),
  /** How long an invocation of a function at zero replicas waits for it to wake. */
  WAKE_TIMEOUT: seconds.prefault('30s'),
  /** Largest invocation body forwarded to a function (413 beyond); 0: no limit. */
  FUNCTION_BODY_LIMIT: bytes.prefault('64mb'),
  /**
   * How long a call of a function with a concurrency limit (com.openfaas.concurrency)
   * may wait for a free slot on one of its replicas before it is refused with 429;
   * unset: UPSTREAM_TIMEOUT, the time a function is given to answer.
   */
  CONCURRENCY_MAX_WAIT: seconds.optional(),
  /** Calls of one function that may wait for a slot in one program at once; beyond, a new call is refused with 429 at once. */
  CONCURRENCY_MAX_WAITING: integer(1, 1_000_000).prefault('1000'),
};

/** Every program that reaches the queue (NATS JetStream), and the limits of its streams (queue/streams.ts). */
export const queueSettings = {
  /** The NATS server(s) (JetStream); none: no queue (the gateway answers /async-function with 503). */
  NATS_URL: addressOrNone((text) => text.split(',').every((part) => /^(nats|tls):\/\/[^\s/,]+$/.test(part.trim())), 'nats://host:port, comma-separated').prefault('nats://nats:4222'),
  /** The JetStream stream of queued calls; dead letters go to "<name>-dead". */
  ASYNC_STREAM: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'expected letters, digits, - and _ (at most 32)')
    .prefault('faas-async'),
  /** How long dead letters are kept. */
  ASYNC_DEAD_LETTER_MAX_AGE: seconds.prefault('168h'),

  // Limits that keep the store from filling (docs in gateway/README.md, "Queue limits"). Every
  // stream has its own; a caller past a function's limit gets 429, past a stream's or the store's 503.
  /** Calls (and durable topic messages) one function may have queued, unless its label com.openfaas.queue.max-messages says otherwise. */
  QUEUE_MAX_MESSAGES: integer(1, 10_000_000).prefault('10000'),
  /** Bytes of bodies one function may have queued, unless its label com.openfaas.queue.max-bytes says otherwise. */
  QUEUE_MAX_BYTES: bytes.prefault('256Mi'),
  /** Dead letters kept at most, in bytes and in number, over all functions: beyond, the oldest go first. */
  DEAD_LETTER_MAX_BYTES: bytes.prefault('512Mi'),
  DEAD_LETTER_MAX_MESSAGES: integer(1, 10_000_000).prefault('10000'),
  /** Bytes the stream of durable topic messages (faas-events) may hold over all subjects. */
  EVENTS_MAX_BYTES: bytes.prefault('1Gi'),
  /** NATS's monitoring endpoint, where the store's size and use are read (none: no check of the store, only the streams' limits). */
  NATS_MONITORING_URL: httpBaseOrNone('http://host:port').prefault('http://nats:8222'),
  /** The JetStream store's budget on disk (nats/nats.conf says why it is not NATS's own max_file_store). */
  QUEUE_STORE_SIZE: bytes.prefault('4Gi'),
  /** Accepts stop (503) once the JetStream store is this full, in percent of its size: room is left for what is already accepted to be worked. */
  QUEUE_STORE_FULL_AT: integer(10, 100).prefault('90'),
};

/** The programs that run triggers (the queue worker, the connector): retries, limits, answers kept. */
export const triggerSettings = {
  /** Attempts per call (the first included) before a retryable failure (429, 502, 503, 504, no connection) becomes a dead letter. */
  ASYNC_MAX_ATTEMPTS: integer(1, 100).prefault('5'),
  /** Wait before the first retry; doubled per attempt up to ASYNC_RETRY_MAX_DELAY. */
  ASYNC_RETRY_DELAY: seconds.prefault('1s'),
  ASYNC_RETRY_MAX_DELAY: seconds.prefault('1m'),
  /** Concurrent asynchronous calls (and event invocations) per function across all workers, unless its label com.openfaas.async.max-inflight says otherwise. */
  ASYNC_MAX_INFLIGHT: integer(1, 10000).prefault('10'),
  /** A call taken by a worker that stops answering NATS for this long is delivered again (to another worker); a worker at work says so every third of it. A worker killed with calls in hand holds its function's max-inflight slots this long. */
  ASYNC_ACK_WAIT: seconds.prefault('10s'),
  /** Largest answer of a function kept for a callback or a reply (beyond, it is cut and X-Answer-Truncated: true). */
  ASYNC_ANSWER_LIMIT: bytes.prefault('10mb'),
};

/**
 * Every program that reaches RabbitMQ (the gateway reads queue depths, the
 * connector consumes and publishes). Credentials are read from Docker
 * secrets (files), never from the environment.
 */
export const rabbitmqSettings = {
  /** The broker: amqp://host[:port][/vhost] or amqps://...; none: no RabbitMQ triggers. User and password in the URL are taken, but secrets are the place for them. */
  RABBITMQ_URL: addressOrNone((text) => /^amqps?:\/\/[^\s]+$/.test(text), 'amqp://host:port/vhost, amqps://...').prefault('none'),
  /** RabbitMQ's management API (queue depths counting unacknowledged messages); none: depths by a passive declare (ready messages only). */
  RABBITMQ_MANAGEMENT_URL: httpBaseOrNone('http://host:port, https://host:port').prefault('none'),
  /** Files holding the broker's user name and password (Docker secrets); a missing file: the URL's own, else guest. */
  RABBITMQ_USERNAME_FILE: z.string().trim().prefault('/run/secrets/rabbitmq-username'),
  RABBITMQ_PASSWORD_FILE: z.string().trim().prefault('/run/secrets/rabbitmq-password'),
  /** A PEM bundle of the CAs an amqps:// (or https://) broker's certificate may chain to, when not a public one. */
  RABBITMQ_CA_FILE: z.string().trim().prefault('/run/secrets/rabbitmq-ca.pem'),
};

export class SettingsError extends Error {}

/** Reads a program's settings from the environment; a bad value throws a SettingsError naming the variable and `what` ("gateway settings"). */
export function loadSettings<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv, what: string): z.output<T> {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(present[String(i.path[0])] ?? '')}: ${i.message}`);
    throw new SettingsError(`invalid ${what}: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** A program's settings from `read`; a bad value is said on stderr and the program exits with status 2. */
export function settingsOrExit<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof SettingsError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}
