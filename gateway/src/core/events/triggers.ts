// What a function's annotations ask of the event connector, and the whole
// table of subscriptions the connector keeps for every function. Pure: the
// connector, the gateway's publish route and queue-depth scaler, and the
// UI's page all read the annotations through here, so they agree.
//
//   topic: "orders,invoices.*"      subscribe to these NATS subjects
//   topic-delivery: "durable"       through a JetStream stream, a durable consumer per function
//   topic: "cron-function"          run on the schedule...
//   schedule: "*/5 * * * *"         ...this one (5 fields, or 6 with seconds first)
import { keyOf, type FunctionRef } from '../functions/types.js';
import { ANNOTATION } from '../labels.js';
import { parseSchedule, type Schedule } from './schedule.js';
import { CRON_TOPIC, streamSubjectsOf, subjectProblem, withoutCovered, type SubjectRules } from './subjects.js';

export type Delivery = 'at-most-once' | 'durable';

export interface FunctionTriggers {
  ref: FunctionRef;
  /** Subjects subscribed to, none covered by another. */
  topics: string[];
  delivery: Delivery;
  schedule?: Schedule;
  /** Annotations that could not be used, in words (the rest still applies). */
  problems: string[];
}

export function triggersOf(ref: FunctionRef, annotations: Record<string, string>, rules: SubjectRules): FunctionTriggers {
  const problems: string[] = [];
  const listed = (annotations[ANNOTATION.topic] ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  const cron = listed.includes(CRON_TOPIC);
  const topics: string[] = [];
  for (const topic of listed) {
    if (topic === CRON_TOPIC) continue;
    const problem = subjectProblem(topic, 'subscribe', rules);
    if (problem) problems.push(`topic: ${problem}`);
    else topics.push(topic);
  }

  const deliveryText = annotations[ANNOTATION.delivery]?.trim().toLowerCase();
  let delivery: Delivery = 'at-most-once';
  if (deliveryText === 'durable') delivery = 'durable';
  else if (deliveryText !== undefined && deliveryText !== '' && deliveryText !== 'at-most-once') {
    problems.push(`${ANNOTATION.delivery}: ${JSON.stringify(annotations[ANNOTATION.delivery])} is neither at-most-once nor durable (at-most-once applies)`);
  }

  let schedule: Schedule | undefined;
  const scheduleText = annotations[ANNOTATION.schedule];
  if (cron) {
    if (scheduleText === undefined || scheduleText.trim() === '') problems.push(`topic ${CRON_TOPIC} needs the annotation ${ANNOTATION.schedule}`);
    else {
      const parsed = parseSchedule(scheduleText);
      if (parsed.ok) schedule = parsed.schedule;
      else problems.push(parsed.message);
    }
  } else if (scheduleText !== undefined) {
    problems.push(`${ANNOTATION.schedule} is ignored without ${CRON_TOPIC} in the annotation ${ANNOTATION.topic}`);
  }

  return { ref: { name: ref.name, namespace: ref.namespace }, topics: withoutCovered(topics), delivery, ...(schedule ? { schedule } : {}), problems };
}

/** One function's durable subscription to one subject: a consumer of the events stream. */
export interface DurableSubscription {
  ref: FunctionRef;
  subject: string;
  consumer: string;
}

/** One function's schedule: a consumer of the schedule stream. */
export interface ScheduledFunction {
  ref: FunctionRef;
  schedule: Schedule;
  consumer: string;
  subject: string;
}

export interface SubscriptionTable {
  /** At-most-once: subject pattern -> the functions subscribed to it (one core subscription each). */
  core: Map<string, FunctionRef[]>;
  /** Durable: keyed by consumer name. */
  durable: Map<string, DurableSubscription>;
  /** Schedules: keyed by consumer name. */
  scheduled: Map<string, ScheduledFunction>;
  /** What the events stream must capture: the durable subjects, none covering or overlapping another. */
  streamSubjects: string[];
}

export interface StreamNames {
  /** Subjects of the schedule stream: "<prefix>.<namespace>.<name>". */
  cronPrefix: string;
}

export function subscriptionTable(all: readonly FunctionTriggers[], names: StreamNames): SubscriptionTable {
  const core = new Map<string, FunctionRef[]>();
  const durable = new Map<string, DurableSubscription>();
  const scheduled = new Map<string, ScheduledFunction>();
  for (const triggers of all) {
    for (const subject of triggers.topics) {
      if (triggers.delivery === 'durable') {
        const consumer = durableConsumerName(triggers.ref, subject);
        durable.set(consumer, { ref: triggers.ref, subject, consumer });
      } else {
        const refs = core.get(subject) ?? [];
        refs.push(triggers.ref);
        core.set(subject, refs);
      }
    }
    if (triggers.schedule) {
      const consumer = scheduleConsumerName(triggers.ref);
      scheduled.set(consumer, { ref: triggers.ref, schedule: triggers.schedule, consumer, subject: functionSubject(names.cronPrefix, triggers.ref) });
    }
  }
  for (const refs of core.values()) refs.sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  const streamSubjects = streamSubjectsOf([...durable.values()].map((d) => d.subject));
  return { core, durable, scheduled, streamSubjects };
}

/** What changed between two tables: what to start and what to stop. */
export interface TableChanges {
  coreAdded: string[];
  coreRemoved: string[];
  /** Subjects whose list of functions changed. */
  coreChanged: string[];
  durableAdded: DurableSubscription[];
  durableRemoved: DurableSubscription[];
  scheduledAdded: ScheduledFunction[];
  scheduledRemoved: ScheduledFunction[];
}

export function changesBetween(before: SubscriptionTable, after: SubscriptionTable): TableChanges {
  const same = (a: FunctionRef[], b: FunctionRef[]) => a.length === b.length && a.every((r, i) => keyOf(r) === keyOf(b[i]!));
  const sameSchedule = (a: ScheduledFunction, b: ScheduledFunction) => a.schedule.expression === b.schedule.expression;
  const changes: TableChanges = { coreAdded: [], coreRemoved: [], coreChanged: [], durableAdded: [], durableRemoved: [], scheduledAdded: [], scheduledRemoved: [] };
  for (const [subject, refs] of after.core) {
    const old = before.core.get(subject);
    if (!old) changes.coreAdded.push(subject);
    else if (!same(old, refs)) changes.coreChanged.push(subject);
  }
  for (const subject of before.core.keys()) if (!after.core.has(subject)) changes.coreRemoved.push(subject);
  for (const [name, sub] of after.durable) if (!before.durable.has(name)) changes.durableAdded.push(sub);
  for (const [name, sub] of before.durable) if (!after.durable.has(name)) changes.durableRemoved.push(sub);
  for (const [name, job] of after.scheduled) {
    const old = before.scheduled.get(name);
    if (!old || !sameSchedule(old, job)) changes.scheduledAdded.push(job);
    if (old && !sameSchedule(old, job)) changes.scheduledRemoved.push(old);
  }
  for (const [name, job] of before.scheduled) if (!after.scheduled.has(name)) changes.scheduledRemoved.push(job);
  return changes;
}

export const EMPTY_TABLE: SubscriptionTable = { core: new Map(), durable: new Map(), scheduled: new Map(), streamSubjects: [] };

/** A consumer-name token for a namespace or name (what JetStream allows; others hex-spelt and cut). */
function token(text: string): string {
  return /^[A-Za-z0-9_-]{1,80}$/.test(text) ? text : `x${Buffer.from(text).toString('hex').slice(0, 78)}`;
}

/** 8 hex digits of FNV-1a: tells subjects apart in a consumer name (no dots or wildcards may appear there). */
export function shortHash(text: string): string {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, '0');
}

/** The durable consumer every connector shares for one function's subscription to one subject. */
export function durableConsumerName(ref: FunctionRef, subject: string): string {
  return `ev_${token(ref.namespace)}_${token(ref.name)}_${shortHash(subject)}`;
}

export function scheduleConsumerName(ref: FunctionRef): string {
  return `cron_${token(ref.namespace)}_${token(ref.name)}`;
}

/** Where one function's ticks are stored: "<prefix>.<namespace>.<name>" (tokens as in the async stream). */
export function functionSubject(prefix: string, ref: FunctionRef): string {
  const subjectToken = (text: string) => (/^[A-Za-z0-9_-]{1,200}$/.test(text) ? text : `~${Buffer.from(text).toString('hex')}`);
  return `${prefix}.${subjectToken(ref.namespace)}.${subjectToken(ref.name)}`;
}

/** The message id of one tick of one function's schedule: the same on every connector replica, so JetStream stores the tick once. */
export function tickId(ref: FunctionRef, tickMs: number): string {
  return `tick-${ref.namespace}-${ref.name}-${tickMs}`;
}
