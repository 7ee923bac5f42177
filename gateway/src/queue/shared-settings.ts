// Values every gateway shares and a restart keeps, such as the store catalog
// an admin chose in the UI: one key each in the JetStream key-value bucket
// `faas-settings` (one revision kept, file storage). Read on each use, so
// every gateway sees a change at once; without NATS, kept in memory.
import type { QueueConnection } from './connection.js';
import { unavailable } from './errors.js';
import { lazyBucket } from './kv-bucket.js';

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
  const open = lazyBucket(connection, SETTINGS_BUCKET);
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
