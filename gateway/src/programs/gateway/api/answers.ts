// The shapes of the gateway's JSON answers, as zod schemas: one source for
// three readers. The routes' own types are checked against them
// (test/unit/api-answers.test.ts: types at typecheck time, real answers at
// run time), the OpenAPI document (api/openapi.ts) is built from them, and
// the web UI's JSDoc types (ui/js/types.js) are these types, imported: a
// field renamed here fails the UI's typecheck.
//
// Imports nothing of the gateway but zod: the UI's typecheck reads this file.
import { z } from 'zod';

/** Every named answer, for the OpenAPI document's components. */
export const answerRegistry = z.registry<{ id: string; description?: string }>();

function named<T extends z.ZodType>(id: string, description: string, schema: T): T {
  answerRegistry.add(schema, { id, description });
  return schema;
}

const stringMap = z.record(z.string(), z.string());

export const resourceLimitsSchema = named(
  'ResourceLimits',
  'Memory and CPU as the deployment gave them: Kubernetes quantities (128Mi, 100m) or Docker sizes (128m, 0.5).',
  z.object({ memory: z.string().optional(), cpu: z.string().optional() }),
);

export const instanceSchema = named(
  'FunctionInstance',
  'One task of a function: the node it runs on and its state.',
  z.object({
    id: z.string(),
    node: z.string().describe('the node it runs on'),
    state: z.string().describe("the orchestrator's state: running, starting, failed, rejected, ..."),
    ready: z.boolean().describe('it receives invocations'),
    since: z.string().optional().describe('RFC 3339 time of its last state change'),
    error: z.string().optional().describe("the engine's error, e.g. No such image: ..."),
    inflight: z.number().int().optional().describe('calls in flight on it over every program (functions with com.openfaas.concurrency; GET /system/function/{name})'),
  }),
);

export const scalingSchema = named(
  'Scaling',
  "The autoscaling limits the gateway works with for this function: its labels read with the gateway's defaults (DEFAULT_MIN_REPLICAS, DEFAULT_MAX_REPLICAS, SCALE_STEP, SCALE_TO_ZERO, IDLE_TIMEOUT). Not an OpenFaaS field: clients that do not know it ignore it.",
  z.object({
    type: z.enum(['rate', 'queue', 'capacity']).describe('rate: alerts on the request rate step it up; queue: it follows its pending messages; capacity: it follows its calls in flight and waiting'),
    min: z.number().int().describe('replicas it starts with and returns to after the load'),
    max: z.number().int().describe('most replicas autoscaling (and a manual scale) may give it'),
    step: z.number().int().describe('replicas a firing alert adds (type rate)'),
    stepMode: z.enum(['multiple', 'add']).describe('multiple: to the next multiple of step (1 -> 5 -> 10, the 2017 rule); add: current + step (com.openfaas.scale.factor)'),
    alerts: z.boolean().describe('false when com.openfaas.scale.factor is 0 or the type is queue: rate alerts leave it alone'),
    target: z.number().nullable().describe('type queue: pending messages per replica; type capacity: calls in flight per replica; null for type rate'),
    zero: z.boolean().describe('it goes to 0 replicas when idle (com.openfaas.scale.zero and SCALE_TO_ZERO)'),
    zeroDuration: z.number().describe('seconds without invocations before it goes to 0'),
    problems: z.array(z.string()).describe('labels whose values could not be used (the default applies)'),
  }),
);

/** OpenFaaS's FunctionStatus, with this gateway's additions. */
export const functionStatusSchema = named(
  'FunctionStatus',
  "A function as GET /system/functions and GET /system/function/{name} answer it (OpenFaaS's FunctionStatus, plus availableReplicas, scaling, unavailableReason and, for one function, instances).",
  z.object({
    name: z.string(),
    namespace: z.string(),
    image: z.string(),
    invocationCount: z.number().describe('invocations through the gateways since they started'),
    replicas: z.number().int().describe('replicas wanted'),
    availableReplicas: z.number().int().describe('replicas ready for traffic'),
    envProcess: z.string(),
    envVars: stringMap,
    labels: stringMap,
    annotations: stringMap,
    constraints: z.array(z.string()),
    secrets: z.array(z.string()),
    limits: resourceLimitsSchema.optional(),
    requests: resourceLimitsSchema.optional(),
    readOnlyRootFilesystem: z.boolean(),
    createdAt: z.string().optional().describe('RFC 3339; absent when unknown'),
    unavailableReason: z.string().optional().describe("why it has fewer tasks than it wants, in the orchestrator's words"),
    scaling: scalingSchema,
    instances: z.array(instanceSchema).optional().describe('GET /system/function/{name} only'),
    concurrency: z
      .object({ limit: z.number().int().optional(), target: z.number().optional(), inflight: z.number().int(), waiting: z.number().int() })
      .optional()
      .describe('GET /system/function/{name} only: calls in flight and waiting over every program, the limit per replica (com.openfaas.concurrency) and the capacity target'),
  }),
);

export const infoSchema = named(
  'Info',
  'GET /system/info (OpenFaaS shape).',
  z.object({
    provider: z.object({ provider: z.string(), orchestration: z.string(), version: z.object({ release: z.string(), sha: z.string() }) }),
    version: z.object({ release: z.string(), sha: z.string(), commit_message: z.string() }),
    arch: z.string(),
  }),
);

export const logEntrySchema = named(
  'LogEntry',
  'One line of GET /system/logs (newline-delimited JSON).',
  z.object({ name: z.string(), namespace: z.string(), instance: z.string(), timestamp: z.string(), text: z.string() }),
);

export const namespaceSchema = named('Namespace', 'A namespace (OpenFaaS shape).', z.object({ name: z.string(), labels: stringMap, annotations: stringMap }));

export const secretNameSchema = named('SecretName', 'A secret as listed: never its value.', z.object({ name: z.string(), namespace: z.string() }));

export const scaleResultSchema = named(
  'ScaleResult',
  'What a manual scale changed.',
  z.object({ serviceName: z.string(), namespace: z.string(), replicas: z.number().int(), previousReplicas: z.number().int() }),
);

export const alertAnswerSchema = named(
  'AlertAnswer',
  'What the scaler did with each alert of a notification.',
  z.object({
    message: z.string(),
    outcomes: z.array(
      z.object({
        function: z.string().optional(),
        alertnames: z.array(z.string()),
        status: z.enum(['firing', 'resolved']),
        action: z.enum(['scaled', 'unchanged', 'ignored', 'failed']),
        from: z.number().optional(),
        to: z.number().optional(),
        reason: z.string(),
      }),
    ),
  }),
);

// History and overview (Prometheus and AlertManager through the gateway) ---------------------------

export const windowSchema = z.enum(['5m', '15m', '1h', '6h', '24h']);
const pairSchema = z.tuple([z.number(), z.number()]).describe('[unix seconds, value]');
const pairsSchema = z.array(pairSchema);
export const scalingEventKindSchema = z.enum(['up', 'down', 'zero', 'wake']);

export const functionHistorySchema = named(
  'FunctionHistory',
  "One function's rate by status code, mean duration, desired and available replicas and scale events over the window, from Prometheus.",
  z.object({
    start: z.number(),
    end: z.number(),
    step: z.number(),
    name: z.string(),
    window: windowSchema,
    rate: z.record(z.string(), pairsSchema).describe('invocations per second by status code'),
    duration: pairsSchema,
    replicas: pairsSchema,
    availableReplicas: pairsSchema,
    events: z.array(z.object({ time: z.number(), event: scalingEventKindSchema, count: z.number() })),
  }),
);

export const functionSummaryHistorySchema = z.object({ rate: pairsSchema, duration: pairsSchema, replicas: pairsSchema, availableReplicas: pairsSchema });

export const functionsHistorySchema = named(
  'FunctionsHistory',
  "Every function's rate and replicas over the window, in one answer.",
  z.object({ start: z.number(), end: z.number(), step: z.number(), window: windowSchema, functions: z.record(z.string(), functionSummaryHistorySchema) }),
);

const serviceHealthSchema = z.object({ url: z.string(), up: z.boolean(), error: z.string().optional() });
const scrapeTargetSchema = z.object({ job: z.string(), instance: z.string(), health: z.string(), lastError: z.string(), lastScrape: z.string() });
export const overviewAlertSchema = z.object({
  name: z.string(),
  function: z.string().optional(),
  severity: z.string().optional(),
  state: z.string(),
  startsAt: z.string(),
  summary: z.string().optional(),
  labels: stringMap,
  annotations: stringMap,
});

export const overviewSchema = named(
  'Overview',
  "The stack's health and the alerts firing now.",
  z.object({
    gateway: z.object({ up: z.literal(true), version: z.string(), functions: z.number() }),
    prometheus: serviceHealthSchema.extend({ gatewayTargets: z.array(scrapeTargetSchema).optional() }),
    alertmanager: serviceHealthSchema,
    alerts: z.array(overviewAlertSchema).nullable().describe('null when AlertManager could not be asked'),
  }),
);

// Asynchronous calls and events -----------------------------------------------------------------

export const asyncQueueSchema = named(
  'AsyncQueue',
  "A function's queue of asynchronous calls.",
  z.object({
    name: z.string(),
    namespace: z.string(),
    queued: z.number().describe('calls waiting or being worked on'),
    queuedBytes: z.number().describe('bytes of their bodies'),
    deadLetters: z.number(),
    limits: z.object({ messages: z.number(), bytes: z.number() }).describe('how much the function may have queued (its labels, else QUEUE_MAX_MESSAGES, QUEUE_MAX_BYTES)'),
  }),
);

export const deadLetterSchema = named(
  'DeadLetter',
  'An asynchronous call (or durable event) that failed every attempt.',
  z.object({
    id: z.number().int().describe('its sequence number: what replay and delete take'),
    callId: z.string(),
    function: z.string(),
    namespace: z.string(),
    method: z.string(),
    path: z.string(),
    query: z.string(),
    callbackUrl: z.string().optional(),
    acceptedAt: z.string(),
    failedAt: z.string(),
    attempts: z.number().int(),
    status: z.number().int(),
    reason: z.string(),
    bodyBytes: z.number().int(),
  }),
);

export const deadLetterWithBodySchema = named(
  'DeadLetterWithBody',
  'One dead letter with the request it would replay.',
  deadLetterSchema.extend({ headers: z.record(z.string(), z.union([z.string(), z.array(z.string())])), body: z.string().describe('base64') }),
);

export const purgeAnswerSchema = named('PurgeAnswer', 'Calls dropped from a queue.', z.object({ name: z.string(), namespace: z.string(), purged: z.number().int() }));

export const replayAnswerSchema = named(
  'ReplayAnswer',
  'A dead letter queued again.',
  z.object({ replayed: z.number().int(), callId: z.string(), function: z.string(), namespace: z.string() }),
);

export const publishAnswerSchema = named(
  'PublishAnswer',
  'A message published to a subject (202).',
  z.object({
    subject: z.string(),
    delivery: z.enum(['at-most-once', 'durable']),
    subscribers: z.number().int().describe('functions subscribed to the subject now'),
    sequence: z.number().int().optional().describe('durable: its sequence in the stream'),
    duplicate: z.boolean().optional().describe('durable: a publish with the same X-Message-Id was stored before'),
  }),
);

export const eventRunSchema = named(
  'EventRun',
  'One run of a function by a topic message, a schedule tick or a RabbitMQ message.',
  z.object({
    at: z.number().describe('ms since the epoch'),
    trigger: z.enum(['topic', 'schedule', 'rabbitmq']),
    subject: z.string().describe("the subject; a schedule's expression; RabbitMQ: the queue"),
    delivery: z.enum(['at-most-once', 'durable', 'schedule', 'rabbitmq']),
    status: z.number().int(),
    outcome: z.enum(['success', 'failure', 'retry', 'dead_letter']),
    durationMs: z.number(),
    attempt: z.number().int(),
    callId: z.string(),
    reason: z.string().optional(),
    published: z.string().optional().describe('RabbitMQ: where the answer was published'),
  }),
);

export const rabbitQueueSchema = named(
  'RabbitQueue',
  "One RabbitMQ queue of a function, as last read from the broker (null: not known).",
  z.object({
    name: z.string(),
    ready: z.number().int().nullable(),
    unacked: z.number().int().nullable(),
    consumers: z.number().int().nullable(),
    deadLetterExchange: z.string().nullable().optional(),
    problem: z.string().optional(),
  }),
);

export const functionEventsSchema = named(
  'FunctionEvents',
  "A function's topics, schedule and RabbitMQ queues, backlog, last runs and queue depth over the window.",
  z.object({
    name: z.string(),
    topics: z.array(z.string()),
    delivery: z.enum(['at-most-once', 'durable']),
    schedule: z.object({ expression: z.string(), next: z.array(z.string()) }).nullable(),
    problems: z.array(z.string()),
    scaling: z.object({ type: z.enum(['queue', 'rate']), target: z.number() }),
    pending: z.object({ async: z.number(), topic: z.number(), schedule: z.number(), rabbitmq: z.number().nullable(), total: z.number() }).nullable(),
    rabbitmq: z
      .object({
        broker: z.string(),
        depthSource: z.enum(['management', 'passive']),
        queues: z.array(rabbitQueueSchema),
        output: z.string().nullable(),
        problems: z.array(z.string()),
        pending: z.number().nullable(),
      })
      .nullable()
      .describe('its RabbitMQ queues (annotation rabbitmq-topic); null: it names none, or the stack has no broker'),
    runs: z.array(eventRunSchema).nullable().describe('newest first; null when NATS cannot be asked'),
    queue: pairsSchema.nullable().describe('pending messages over the window; null when Prometheus did not answer'),
    window: z.string(),
    start: z.number(),
    end: z.number(),
    step: z.number(),
  }),
);

export type FunctionStatusAnswer = z.output<typeof functionStatusSchema>;
export type FunctionInstanceAnswer = z.output<typeof instanceSchema>;
export type ScalingAnswer = z.output<typeof scalingSchema>;
export type InfoAnswer = z.output<typeof infoSchema>;
export type LogEntryAnswer = z.output<typeof logEntrySchema>;
export type FunctionHistoryAnswer = z.output<typeof functionHistorySchema>;
export type FunctionsHistoryAnswer = z.output<typeof functionsHistorySchema>;
export type OverviewAnswer = z.output<typeof overviewSchema>;
export type OverviewAlertAnswer = z.output<typeof overviewAlertSchema>;
export type AsyncQueueAnswer = z.output<typeof asyncQueueSchema>;
export type DeadLetterAnswer = z.output<typeof deadLetterSchema>;
export type ReplayAnswer = z.output<typeof replayAnswerSchema>;
export type PurgeAnswer = z.output<typeof purgeAnswerSchema>;
export type PublishAnswer = z.output<typeof publishAnswerSchema>;
export type EventRunAnswer = z.output<typeof eventRunSchema>;
export type FunctionEventsAnswer = z.output<typeof functionEventsSchema>;
export type RabbitQueueAnswer = z.output<typeof rabbitQueueSchema>;
export type SecretNameAnswer = z.output<typeof secretNameSchema>;
