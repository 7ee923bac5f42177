// The JetStream streams of event-driven functions, as the connector, the
// gateway's publish route and its queue-depth scaler all use them, on the
// connection of the async queue (one NATS connection per process):
//
//   faas-events  interest retention, file storage: captures the subjects that
//                functions subscribe to durably (annotation topic-delivery:
//                durable); each such function has a durable consumer per
//                subject, and a message stays until every one of them has it
//   faas-cron    work queue, file storage: one message per tick of each
//                function's schedule ("faas-cron.<namespace>.<name>"), stored
//                once whatever the number of connectors (message id per tick)
//   faas-runs    the last runs of each function, in memory, 20 per function
//                ("faas-runs.<namespace>.<name>"), for the UI
import { headers as natsHeaders } from '@nats-io/transport-node';
import { DiscardPolicy, JetStreamApiError, RetentionPolicy, StorageType, type ConsumerInfo, type JetStreamManager } from '@nats-io/jetstream';
import { addStream, isStreamMissing, QueueUnavailable, type AsyncQueue } from './async-queue.js';
import type { FunctionRef } from '../programs/gateway/provider/types.js';
import { functionSubject } from '../core/events/triggers.js';

export const EVENTS_STREAM = 'faas-events';
export const CRON_STREAM = 'faas-cron';
export const RUNS_STREAM = 'faas-runs';
/** Always among faas-events' subjects: a stream needs one, and no function may take it (faas- is reserved). */
const PLACEHOLDER_SUBJECT = `${EVENTS_STREAM}.none`;
/** Runs kept per function. */
export const RUNS_KEPT = 20;

const NANOS_PER_MS = 1_000_000;

/** One run of a function by an event, as the UI lists it. */
export interface RunRecord {
  /** When the invocation started (ms since the epoch). */
  at: number;
  trigger: 'topic' | 'schedule';
  /** The message's subject; for a schedule, the expression. */
  subject: string;
  delivery: 'at-most-once' | 'durable' | 'schedule';
  /** The function's status (0: no answer; the gateway's 502/503/504 when it had none). */
  status: number;
  outcome: 'success' | 'failure' | 'retry' | 'dead_letter';
  durationMs: number;
  attempt: number;
  callId: string;
  reason?: string;
}

export class EventStreams {
  private ready: Promise<void> | undefined;

  constructor(private readonly queue: AsyncQueue) {}

  /** Makes the three streams when missing (idempotent: every connector and gateway does it). */
  ensure(): Promise<void> {
    this.ready ??= this.make().catch((error: unknown) => {
      this.ready = undefined;
      throw unavailable(error);
    });
    return this.ready;
  }

  /** After an error that says a stream is gone (a NATS that lost its store): make them again next time. */
  forget(error?: unknown): void {
    if (error === undefined || isStreamMissing(error)) this.ready = undefined;
  }

  private async make(): Promise<void> {
    const { jsm } = await this.queue.handles(30_000);
    await addStream(jsm, {
      name: EVENTS_STREAM,
      subjects: [PLACEHOLDER_SUBJECT],
      retention: RetentionPolicy.Interest,
      storage: StorageType.File,
      // A publish retried after a lost PubAck (X-Message-Id) is stored once.
      duplicate_window: 120_000 * NANOS_PER_MS,
    });
    await addStream(jsm, {
      name: CRON_STREAM,
      subjects: [`${CRON_STREAM}.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      // Every connector publishes every tick with the same id: stored once. Two minutes outlast any clock skew and retry.
      duplicate_window: 120_000 * NANOS_PER_MS,
    });
    await addStream(jsm, {
      name: RUNS_STREAM,
      subjects: [`${RUNS_STREAM}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.Memory,
      max_msgs_per_subject: RUNS_KEPT,
      max_age: 24 * 3600 * 1000 * NANOS_PER_MS,
      max_bytes: 32 * 1024 * 1024,
      discard: DiscardPolicy.Old,
    });
  }

  async jsm(): Promise<JetStreamManager> {
    await this.ensure();
    return (await this.queue.handles()).jsm;
  }

  /** The subjects faas-events captures now (the placeholder left out). */
  async capturedSubjects(): Promise<string[]> {
    const jsm = await this.jsm();
    try {
      const info = await jsm.streams.info(EVENTS_STREAM);
      return (info.config.subjects ?? []).filter((s) => s !== PLACEHOLDER_SUBJECT);
    } catch (error) {
      this.forget(error);
      throw unavailable(error);
    }
  }

  /**
   * Makes faas-events capture exactly `subjects` (none covered by another).
   * Read, change, write: two connectors changing it at the same moment may
   * undo each other's change, so each checks again on its next pass (every
   * few seconds) and puts back what it needs.
   */
  async captureSubjects(subjects: readonly string[]): Promise<boolean> {
    const jsm = await this.jsm();
    try {
      const info = await jsm.streams.info(EVENTS_STREAM);
      const current = new Set(info.config.subjects ?? []);
      const wanted = new Set([PLACEHOLDER_SUBJECT, ...subjects]);
      if (current.size === wanted.size && [...wanted].every((s) => current.has(s))) return false;
      await jsm.streams.update(EVENTS_STREAM, { ...info.config, subjects: [...wanted].sort() });
      return true;
    } catch (error) {
      this.forget(error);
      throw unavailable(error);
    }
  }

  /** The consumers of a stream, each with its pending and delivered counts. */
  async consumers(stream: string): Promise<ConsumerInfo[]> {
    const jsm = await this.jsm();
    try {
      const out: ConsumerInfo[] = [];
      for await (const info of jsm.consumers.list(stream)) out.push(info);
      return out;
    } catch (error) {
      this.forget(error);
      throw unavailable(error);
    }
  }

  async deleteConsumer(stream: string, name: string): Promise<void> {
    const jsm = await this.jsm();
    await jsm.consumers.delete(stream, name).catch((error: unknown) => {
      if (!/not found/i.test(String((error as Error).message))) throw error;
    });
  }

  /** Keeps a run (fire and forget: JetStream stores it without an acknowledgement; a lost one is only a line less in the UI). */
  async recordRun(ref: FunctionRef, run: RunRecord): Promise<void> {
    const { nc } = await this.queue.handles();
    nc.publish(functionSubject(RUNS_STREAM, ref), JSON.stringify(run));
  }

  /** The function's last runs, oldest first. */
  async lastRuns(ref: FunctionRef): Promise<RunRecord[]> {
    const jsm = await this.jsm();
    const subject = functionSubject(RUNS_STREAM, ref);
    const runs: RunRecord[] = [];
    try {
      let seq = 1;
      // At most RUNS_KEPT are kept per function: at most that many reads, each jumping to the next of its subject.
      for (let i = 0; i < RUNS_KEPT + 5; i++) {
        const message = await jsm.streams.getMessage(RUNS_STREAM, { seq, next_by_subj: subject } as unknown as { seq: number });
        if (!message) break;
        try {
          runs.push(JSON.parse(new TextDecoder().decode(message.data)) as RunRecord);
        } catch {
          // not one of ours
        }
        seq = message.seq + 1;
      }
    } catch (error) {
      this.forget(error);
      throw unavailable(error);
    }
    return runs;
  }
}

function unavailable(error: unknown): Error {
  if (error instanceof QueueUnavailable) return error;
  return new QueueUnavailable(`NATS JetStream is not available: ${(error as Error)?.message ?? String(error)}`);
}
