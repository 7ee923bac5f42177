// @ts-check
// The shapes the UI reads from the gateway, as JSDoc types for the
// typechecker (npm run typecheck). Types only: no module imports this at
// run time.

/**
 * One task of a function (GET /system/function/{name}, `instances`).
 * @typedef {object} Instance
 * @property {string} id
 * @property {string} [node] the node it runs on
 * @property {string} [state] Swarm's task state: running, starting, failed, rejected, ...
 * @property {boolean} [ready] whether it receives traffic
 * @property {string} [since] RFC 3339 time of its last state change
 * @property {string} [error] the engine's error, e.g. "No such image: ..."
 */

/**
 * A function as GET /system/functions and GET /system/function/{name} answer.
 * @typedef {object} FunctionStatus
 * @property {string} name
 * @property {string} image
 * @property {number} invocationCount
 * @property {number} replicas
 * @property {number} [availableReplicas]
 * @property {string} [envProcess]
 * @property {Record<string, string>} [envVars]
 * @property {Record<string, string>} [labels]
 * @property {Record<string, string>} [annotations]
 * @property {string} [createdAt]
 * @property {Instance[]} [instances]
 * @property {string} [unavailableReason] why it has fewer tasks than it wants
 */

/** @typedef {[number, number]} Pair [unix seconds, value] */

/**
 * @typedef {'up' | 'down' | 'zero' | 'wake'} ScalingEventKind
 */

/**
 * GET /system/function/{name}/history
 * @typedef {object} FunctionHistory
 * @property {string} name
 * @property {string} window
 * @property {number} start
 * @property {number} end
 * @property {number} step
 * @property {Record<string, Pair[]>} rate
 * @property {Pair[]} duration
 * @property {Pair[]} replicas
 * @property {Pair[]} availableReplicas
 * @property {Array<{time: number, event: ScalingEventKind, count: number}>} events
 */

/**
 * One function in GET /system/functions/history
 * @typedef {object} FunctionSummaryHistory
 * @property {Pair[]} rate
 * @property {Pair[]} duration
 * @property {Pair[]} replicas
 * @property {Pair[]} availableReplicas
 */

/**
 * GET /system/functions/history
 * @typedef {object} FunctionsHistory
 * @property {string} window
 * @property {number} start
 * @property {number} end
 * @property {number} step
 * @property {Record<string, FunctionSummaryHistory>} functions
 */

/**
 * @typedef {object} ServiceHealth
 * @property {string} url
 * @property {boolean} up
 * @property {string} [error]
 */

/**
 * @typedef {object} OverviewAlert
 * @property {string} name
 * @property {string} [function]
 * @property {string} [severity]
 * @property {string} state
 * @property {string} startsAt
 * @property {string} [summary]
 * @property {Record<string, string>} labels
 * @property {Record<string, string>} annotations
 */

/**
 * GET /system/overview
 * @typedef {object} Overview
 * @property {{up: boolean, version: string, functions: number}} gateway
 * @property {ServiceHealth & {gatewayTargets?: Array<{instance: string, health: string, lastError: string}>}} prometheus
 * @property {ServiceHealth} alertmanager
 * @property {OverviewAlert[] | null} alerts
 */

/**
 * What the monitor keeps per poll of a function.
 * @typedef {{t: number, count: number, rate: number | null, replicas: number, available: number}} Sample
 */

/**
 * A replica change the page saw itself (desired replicas went from `from` to `to`).
 * @typedef {{t: number, from: number, to: number}} LiveScaleEvent
 */

/** A point of a chart line: time in ms, value (null: a gap). @typedef {{t: number, v: number | null}} Point */

/**
 * A marker on a chart.
 * @typedef {object} ChartEvent
 * @property {number} t
 * @property {ScalingEventKind} kind
 * @property {string} label e.g. "1→5" (seen live) or "up" (from history)
 * @property {number} [from]
 * @property {number} [to]
 * @property {number} [count]
 */

/**
 * One run of a function by an event (GET /system/function/{name}/events, `runs`).
 * @typedef {object} EventRun
 * @property {number} at ms since the epoch
 * @property {'topic' | 'schedule' | 'rabbitmq'} trigger
 * @property {string} subject the subject; a schedule's expression; RabbitMQ: the queue
 * @property {'at-most-once' | 'durable' | 'schedule' | 'rabbitmq'} delivery
 * @property {number} status
 * @property {'success' | 'failure' | 'retry' | 'dead_letter'} outcome
 * @property {number} durationMs
 * @property {number} attempt
 * @property {string} callId
 * @property {string} [reason]
 * @property {string} [published] RabbitMQ: where the answer was published
 */

/**
 * One RabbitMQ queue of a function, as last read from the broker.
 * @typedef {object} RabbitQueue
 * @property {string} name
 * @property {number | null} ready
 * @property {number | null} unacked
 * @property {number | null} consumers
 * @property {string | null} [deadLetterExchange]
 * @property {string} [problem]
 */

/**
 * GET /system/function/{name}/events
 * @typedef {object} FunctionEvents
 * @property {string} name
 * @property {string[]} topics
 * @property {'at-most-once' | 'durable'} delivery
 * @property {{expression: string, next: string[]} | null} schedule
 * @property {string[]} problems
 * @property {{type: 'queue' | 'rate', target: number}} scaling
 * @property {{async: number, topic: number, schedule: number, rabbitmq?: number | null, total: number} | null} pending
 * @property {{broker: string, depthSource: 'management' | 'passive', queues: RabbitQueue[], output: string | null, problems: string[], pending: number | null} | null} [rabbitmq] its RabbitMQ queues (annotation rabbitmq-topic)
 * @property {EventRun[] | null} runs newest first
 * @property {Pair[] | null} queue pending messages over the window
 * @property {string} window
 * @property {number} start
 * @property {number} end
 * @property {number} step
 */

/** A view the router shows: its element and what to stop when it goes. @typedef {{el: HTMLElement, dispose: () => void}} View */

export {};
