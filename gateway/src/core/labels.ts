// Every label and annotation a function may carry that the stack reads, in
// one place: the scaler, the invocation path, the triggers, the API and the
// docs all take the names from here. (The Swarm provider's own storage keys,
// such as the annotations' prefix in service labels, are its business:
// programs/gateway/provider/swarm/spec.ts.)

/** Labels (service labels on Swarm; `labels` in the API and in stack.yml). */
export const LABEL = {
  // Scaling (programs/gateway/scaling/policy.ts)
  /** 2017 label: the most replicas alerts may scale to. */
  maxLegacy: 'com.faas.max_replicas',
  /** The most replicas. */
  max: 'com.openfaas.scale.max',
  /** Replicas a function starts with and returns to after the load. */
  min: 'com.openfaas.scale.min',
  /** Percent of max added per firing alert; 0 turns alert scaling off. */
  factor: 'com.openfaas.scale.factor',
  /** "true": scale to zero after an idle period. */
  zero: 'com.openfaas.scale.zero',
  /** The idle period, e.g. "30s", "2m" (default IDLE_TIMEOUT). */
  zeroDuration: 'com.openfaas.scale.zero-duration',
  /** "queue": scale on pending messages; "capacity": on requests in flight; "rate" (or none): on the request rate (alerts). */
  scaleType: 'com.openfaas.scale.type',
  /** With scale.type=queue: pending messages per replica; with scale.type=capacity: requests in flight per replica. */
  scaleTarget: 'com.openfaas.scale.target',

  // The invocation path (core/upstream/slots.ts)
  /** Requests one replica is given at once, by every program that invokes it; beyond, calls wait (core/functions/concurrency.ts). */
  concurrency: 'com.openfaas.concurrency',

  // Asynchronous calls and events (triggers/)
  /** Concurrent asynchronous calls and event invocations of the function across all workers and connectors. */
  asyncMaxInflight: 'com.openfaas.async.max-inflight',
  /** Attempts per call or event (overrides ASYNC_MAX_ATTEMPTS). */
  asyncMaxAttempts: 'com.openfaas.async.max-attempts',
  /** Most calls (and durable topic messages) the function may have queued (overrides QUEUE_MAX_MESSAGES). */
  queueMaxMessages: 'com.openfaas.queue.max-messages',
  /** Most bytes of bodies the function may have queued, e.g. "64Mi" (overrides QUEUE_MAX_BYTES). */
  queueMaxBytes: 'com.openfaas.queue.max-bytes',

  // The invocation path (programs/gateway/routes/invoke.ts)
  /** "true": the caller's Authorization and Cookie headers go on to the function. */
  forwardCredentials: 'swarmfaas.forward-credentials',
  /** "false": the function's pages run on the gateway's own origin (they are sandboxed otherwise). */
  sandbox: 'swarmfaas.sandbox',

  // Confinement (programs/gateway/confinement.ts)
  /** "true": run as the image's own user (root included); honoured only with FUNCTION_ALLOW_ROOT=true. */
  runAsImageUser: 'swarmfaas.run-as-image-user',
} as const;

/** Annotations (`annotations` in the API and in stack.yml). */
export const ANNOTATION = {
  /** NATS subjects the function subscribes to, comma-separated; "cron-function" with a schedule. */
  topic: 'topic',
  /** "durable": its topics through JetStream, a durable consumer per function; else at-most-once. */
  delivery: 'topic-delivery',
  /** A cron expression (5 fields, or 6 with seconds first), with topic "cron-function". */
  schedule: 'schedule',
  /** A path the function serves its own OpenAPI document at, e.g. "/openapi.json": its page in the UI lists its operations (ui/js/views/function-api-panel.js). */
  openapi: 'com.openfaas.openapi',
  /** RabbitMQ queues the function is invoked for, comma-separated (OpenFaaS Pro's RabbitMQ connector reads the queue name as the `topic`, which is NATS here). */
  rabbitmqTopic: 'rabbitmq-topic',
  /** Where the function's answers are published: a queue ("downstream"), or an exchange and a routing key ("results/orders.done"). */
  rabbitmqOutput: 'rabbitmq-output',
} as const;
