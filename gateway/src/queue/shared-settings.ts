// Values every gateway shares and a restart keeps, such as the store catalog
// an admin chose in the UI: one key each in the JetStream key-value bucket
// `faas-settings` (one revision kept, file storage). Read on each use, so
// every gateway sees a change at once; without NATS, kept in memory.
import { Kvm, type KV } from '@nats-io/kv';
import type { QueueConnection } from './connection.js';
import { unavailable } from './errors.js';

export const SETTINGS_BUCKET = 'faas-settings';

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

/** Kept in NATS; throws QueueUnavailable while NATS cannot be reached. */
export function natsSetting(connection: QueueConnection, key: string): SharedSetting {
  let bucket: Promise<KV> | undefined;
  const open = () =>
    (bucket ??= connection
      .handles(1_000)
      .then(({ js }) => new Kvm(js).create(SETTINGS_BUCKET, { history: 1 }))
      .catch((error: unknown) => {
        bucket = undefined;
        throw unavailable(error);
      }));
  // A NATS that lost its store lost the bucket: open (make) it again.
  connection.onReconnect(() => {
    bucket = undefined;
  });
  return {
    async get() {
      const kv = await open();
      try {
        const entry = await kv.get(key);
        // A deleted (or purged) key reads as an entry with no value.
        const value = entry && entry.operation === 'PUT' ? entry.string() : '';
        return value === '' ? undefined : value;
      } catch (error) {
        throw unavailable(error);
      }
    },
    async set(value) {
      const kv = await open();
      try {
        if (value === undefined) await kv.delete(key);
        else await kv.put(key, value);
      } catch (error) {
        throw unavailable(error);
      }
    },
  };
}
