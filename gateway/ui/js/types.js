// @ts-check
// The shapes the UI reads from the gateway, as JSDoc types for the
// typechecker (npm run typecheck). The answers' types are the gateway's own
// (src/programs/gateway/api/answers.ts, whose schemas the routes are checked
// against): a field renamed there fails the UI's typecheck. Types only: no
// module imports this at run time.

/** @typedef {import('../../src/programs/gateway/api/answers.js').FunctionInstanceAnswer} Instance one task of a function */
/** @typedef {import('../../src/programs/gateway/api/answers.js').FunctionStatusAnswer} FunctionStatus a function as GET /system/functions and GET /system/function/{name} answer */
/** @typedef {import('../../src/programs/gateway/api/answers.js').ScalingAnswer} Scaling the autoscaling limits the gateway computed for a function */

/** @typedef {[number, number]} Pair [unix seconds, value] */

/** @typedef {FunctionHistory['events'][number]['event']} ScalingEventKind */
/** @typedef {import('../../src/programs/gateway/api/answers.js').FunctionHistoryAnswer} FunctionHistory GET /system/function/{name}/history */
/** @typedef {import('../../src/programs/gateway/api/answers.js').FunctionsHistoryAnswer} FunctionsHistory GET /system/functions/history */
/** @typedef {FunctionsHistory['functions'][string]} FunctionSummaryHistory one function of GET /system/functions/history */
/** @typedef {import('../../src/programs/gateway/api/answers.js').OverviewAnswer} Overview GET /system/overview */
/** @typedef {import('../../src/programs/gateway/api/answers.js').OverviewAlertAnswer} OverviewAlert */
/** @typedef {Overview['alertmanager']} ServiceHealth */

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

/** @typedef {import('../../src/programs/gateway/api/answers.js').EventRunAnswer} EventRun one run of a function by an event */
/** @typedef {import('../../src/programs/gateway/api/answers.js').FunctionEventsAnswer} FunctionEvents GET /system/function/{name}/events */
/** @typedef {import('../../src/programs/gateway/api/answers.js').RabbitQueueAnswer} RabbitQueue one RabbitMQ queue of a function, as last read from the broker */
/** @typedef {import('../../src/programs/gateway/api/answers.js').AsyncQueueAnswer} AsyncQueue one row of GET /system/async/queues */
/** @typedef {import('../../src/programs/gateway/api/answers.js').DeadLetterAnswer} DeadLetter one of GET /system/async/dead-letters */
/** @typedef {import('../../src/programs/gateway/api/answers.js').ReplayAnswer} ReplayAnswer POST /system/async/dead-letters/{id}/replay */
/** @typedef {import('../../src/programs/gateway/api/answers.js').LogEntryAnswer} LogEntry one line of GET /system/logs */
/** @typedef {import('../../src/programs/gateway/api/answers.js').SecretNameAnswer} SecretName one of GET /system/secrets */
/** @typedef {import('../../src/programs/gateway/api/answers.js').InfoAnswer} Info GET /system/info */

/** @typedef {import('../../src/programs/gateway/store/view.js').StoreView} StoreView GET /system/store */
/** @typedef {StoreView['catalog']['functions'][number]} StoreFunction one function of a store catalog */

/** A view the router shows: its element and what to stop when it goes. @typedef {{el: HTMLElement, dispose: () => void}} View */

export {};
