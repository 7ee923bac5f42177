// A value every gateway shares and a restart keeps: one message per setting
// in the JetStream stream `faas-settings` (one kept per subject, file
// storage), e.g. the store catalog an admin chose in the UI. Read on each
// use (a JetStream API request), so every gateway sees a change at once.
import { RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { addStream, isStreamMissing, QueueUnavailable, type AsyncQueue } from './async-queue.js';

export const SETTINGS_STREAM = 'faas-settings';

export interface SharedSetting {
  /** The value set last; undefined when none was (or it was cleared). */
  get(): Promise<string | undefined>;
  /** undefined clears it. */
  set(value: string | undefined): Promise<void>;
}

/** Kept in this process only: for a gateway without NATS (NATS_URL=none) and for tests. */
export function memorySetting(): SharedSetting {
  let value: string | undefined;
  return {
    get: async () => value,
    set: async (next) => {
      value = next;
    },
  };
}

/** Kept in JetStream; throws QueueUnavailable while NATS cannot be reached. */
export function natsSetting(queue: AsyncQueue, key: string): SharedSetting {
  const subject = `${SETTINGS_STREAM}.${key}`;
  let ready: Promise<void> | undefined;
  const handles = async () => {
    const h = await queue.handles(1_000);
    ready ??= addStream(h.jsm, {
      name: SETTINGS_STREAM,
      subjects: [`${SETTINGS_STREAM}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_msgs_per_subject: 1,
    }).catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
    await ready;
    return h;
  };
  const unavailable = (error: unknown) => (error instanceof QueueUnavailable ? error : new QueueUnavailable(`NATS JetStream did not answer: ${(error as Error)?.message ?? error}`));
  return {
    async get() {
      try {
        const { jsm } = await handles();
        const message = await jsm.streams.getMessage(SETTINGS_STREAM, { last_by_subj: subject });
        // An empty message is a cleared setting.
        const value = message ? message.string() : '';
        return value === '' ? undefined : value;
      } catch (error) {
        if (isStreamMissing(error)) ready = undefined;
        if (/no message found|message not found/i.test((error as Error)?.message ?? '')) return undefined;
        throw unavailable(error);
      }
    },
    async set(value) {
      try {
        const { js } = await handles();
        await js.publish(subject, value ?? '', { timeout: 3_000 });
      } catch (error) {
        if (isStreamMissing(error)) ready = undefined;
        throw unavailable(error);
      }
    },
  };
}
