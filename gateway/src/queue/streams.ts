// Every JetStream stream of the stack, with its limits, in one place, so that
// the store can never fill:
//
//   <ASYNC_STREAM>_<namespace>_<name>  one per function: its queued calls (work queue,
//                   file storage), at most QUEUE_MAX_MESSAGES / QUEUE_MAX_BYTES or
//                   the function's labels; beyond, JetStream refuses the call (429)
//   <ASYNC_STREAM>-dead  dead letters: DEAD_LETTER_MAX_BYTES / _MESSAGES and
//                   ASYNC_DEAD_LETTER_MAX_AGE, the oldest dropped first
//   faas-events     durable topic messages (interest retention): EVENTS_MAX_BYTES
//   faas-cron       schedule ticks (work queue): a few per function, the oldest dropped
//   faas-runs       the last runs of each function, in memory, 20 per function
//   KV_faas-functions  the functions as the gateways see them (function-catalog.ts)
//
// Each program that uses a stream makes it when it is missing (idempotent),
// and again after NATS lost its store; the gateway also brings the limits of
// an existing stream to the settings (a redeploy with other limits applies them).
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { parseBytes } from '../core/settings.js';
import { LABEL } from '../core/labels.js';
import type { FunctionRef } from '../core/functions/types.js';
import type { QueueConnection } from './connection.js';
import { isAlreadyThere, isStreamMissing, unavailable } from './errors.js';
import { nameToken } from './call-message.js';

export interface StreamSettings {
  ASYNC_STREAM: string;
  ASYNC_DEAD_LETTER_MAX_AGE: number;
  QUEUE_MAX_MESSAGES: number;
  QUEUE_MAX_BYTES: number;
  DEAD_LETTER_MAX_BYTES: number;
  DEAD_LETTER_MAX_MESSAGES: number;
  EVENTS_MAX_BYTES: number;
}

export const EVENTS_STREAM = 'faas-events';
export const CRON_STREAM = 'faas-cron';
export const RUNS_STREAM = 'faas-runs';
/** Always among faas-events' subjects: a stream needs one, and no function may take it (faas- is reserved). */
export const EVENTS_PLACEHOLDER_SUBJECT = `${EVENTS_STREAM}.none`;
/** Runs kept per function. */
export const RUNS_KEPT = 20;
/** Ticks of one schedule kept while its function is down: a function back after an outage runs the latest few, not every missed one. */
const TICKS_KEPT = 10;

const NANOS_PER_MS = 1_000_000;
/** A retried publish (its PubAck was lost) within this long is stored once. */
const DUPLICATE_WINDOW_NS = 120_000 * NANOS_PER_MS;

type Spec = Partial<StreamConfig> & { name: string; subjects: string[] };

/** A function's own limits: its labels, else the settings. */
export interface QueueLimits {
  messages: number;
  bytes: number;
  /** Labels whose values could not be used (the setting applies). */
  problems: string[];
}

export function queueLimitsOf(labels: Record<string, string>, settings: Pick<StreamSettings, 'QUEUE_MAX_MESSAGES' | 'QUEUE_MAX_BYTES'>): QueueLimits {
  const problems: string[] = [];
  let messages = settings.QUEUE_MAX_MESSAGES;
  let bytes = settings.QUEUE_MAX_BYTES;
  const m = labels[LABEL.queueMaxMessages]?.trim();
  if (m !== undefined) {
    if (/^\d+$/.test(m) && Number(m) >= 1 && Number(m) <= 10_000_000) messages = Number(m);
    else problems.push(`${LABEL.queueMaxMessages}=${JSON.stringify(m)} is not a whole number from 1 to 10000000`);
  }
  const b = labels[LABEL.queueMaxBytes]?.trim();
  if (b !== undefined) {
    let parsed: number | undefined;
    try {
      parsed = parseBytes(b);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined && parsed >= 1024) bytes = parsed;
    else problems.push(`${LABEL.queueMaxBytes}=${JSON.stringify(b)} is not a size of at least 1Ki, such as 64Mi or 1Gi`);
  }
  return { messages, bytes, problems };
}

/** The stream of a function's queued calls, and the subject its calls are published to. */
export function functionStream(prefix: string, ref: FunctionRef): { stream: string; subject: string } {
  // A namespace holds no "_", so "<prefix>_<namespace>_<name>" names one function only.
  return { stream: `${prefix}_${nameToken(ref.namespace)}_${nameToken(ref.name)}`, subject: `${prefix}-fn.${nameToken(ref.namespace)}.${nameToken(ref.name)}` };
}

export function functionStreamSpec(prefix: string, ref: FunctionRef, limits: Pick<QueueLimits, 'messages' | 'bytes'>): Spec {
  const { stream, subject } = functionStream(prefix, ref);
  return {
    name: stream,
    subjects: [subject],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    max_msgs: limits.messages,
    max_bytes: limits.bytes,
    // Full: refuse the new call (the caller hears 429), never drop an accepted one.
    discard: DiscardPolicy.New,
    duplicate_window: DUPLICATE_WINDOW_NS,
  };
}

/** The streams every function shares. */
export function sharedStreamSpecs(settings: StreamSettings): Record<'dead' | 'events' | 'cron' | 'runs', Spec> {
  const dead = `${settings.ASYNC_STREAM}-dead`;
  return {
    dead: {
      name: dead,
      subjects: [`${dead}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: Math.round(settings.ASYNC_DEAD_LETTER_MAX_AGE * 1000) * NANOS_PER_MS,
      max_bytes: settings.DEAD_LETTER_MAX_BYTES,
      max_msgs: settings.DEAD_LETTER_MAX_MESSAGES,
      // The oldest go first: a failing function never stops calls being kept as dead letters.
      discard: DiscardPolicy.Old,
      duplicate_window: DUPLICATE_WINDOW_NS,
    },
    events: {
      name: EVENTS_STREAM,
      subjects: [EVENTS_PLACEHOLDER_SUBJECT],
      retention: RetentionPolicy.Interest,
      storage: StorageType.File,
      max_bytes: settings.EVENTS_MAX_BYTES,
      discard: DiscardPolicy.New,
      // A publish retried after a lost PubAck (X-Message-Id) is stored once.
      duplicate_window: DUPLICATE_WINDOW_NS,
    },
    cron: {
      name: CRON_STREAM,
      subjects: [`${CRON_STREAM}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      max_msgs_per_subject: TICKS_KEPT,
      max_bytes: 64 * 1024 * 1024,
      discard: DiscardPolicy.Old,
      // Every connector publishes every tick with the same id: stored once. Two minutes outlast any clock skew and retry.
      duplicate_window: DUPLICATE_WINDOW_NS,
    },
    runs: {
      name: RUNS_STREAM,
      subjects: [`${RUNS_STREAM}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.Memory,
      max_msgs_per_subject: RUNS_KEPT,
      max_age: 24 * 3600 * 1000 * NANOS_PER_MS,
      max_bytes: 32 * 1024 * 1024,
      discard: DiscardPolicy.Old,
    },
  };
}

/** The limit fields of a spec, to compare with what a stream has. */
const LIMIT_FIELDS = ['max_msgs', 'max_bytes', 'max_age', 'max_msgs_per_subject', 'discard'] as const;

/** Makes the streams of the queue on demand: once per connection, again after NATS lost them. */
export class Streams {
  private readonly made = new Map<string, Promise<void>>();

  constructor(
    private readonly connection: QueueConnection,
    readonly settings: StreamSettings,
    private readonly options: { applyLimits: boolean } = { applyLimits: false },
  ) {
    connection.onReconnect(() => this.made.clear());
  }

  get specs(): ReturnType<typeof sharedStreamSpecs> {
    return sharedStreamSpecs(this.settings);
  }

  /** Makes the stream when it is missing (every gateway, worker and connector may; the first wins). */
  ensure(spec: Spec): Promise<void> {
    let made = this.made.get(spec.name);
    if (!made) {
      made = this.make(spec).catch((error: unknown) => {
        this.made.delete(spec.name);
        throw unavailable(error);
      });
      this.made.set(spec.name, made);
    }
    return made;
  }

  /** After an answer that says a stream is gone (a NATS that lost its store): make it again on the next use. */
  forget(error?: unknown, name?: string): void {
    if (error !== undefined && !isStreamMissing(error)) return;
    if (name) this.made.delete(name);
    else this.made.clear();
  }

  private async make(spec: Spec): Promise<void> {
    const { jsm } = await this.connection.handles(30_000);
    await addStream(jsm, spec, this.options.applyLimits);
  }
}

/** Makes a stream unless it exists; with `applyLimits`, brings an existing one's limits to the spec. */
export async function addStream(jsm: JetStreamManager, spec: Spec, applyLimits = false): Promise<void> {
  try {
    const info = await jsm.streams.info(spec.name);
    if (applyLimits && LIMIT_FIELDS.some((f) => spec[f] !== undefined && info.config[f] !== spec[f])) {
      const limits = Object.fromEntries(LIMIT_FIELDS.filter((f) => spec[f] !== undefined).map((f) => [f, spec[f]]));
      await jsm.streams.update(spec.name, { ...info.config, ...limits });
    }
    return;
  } catch (error) {
    if (!isStreamMissing(error)) throw error;
  }
  try {
    await jsm.streams.add(spec);
  } catch (error) {
    // Another program made it a moment ago.
    if (!isAlreadyThere(error)) throw error;
  }
}
