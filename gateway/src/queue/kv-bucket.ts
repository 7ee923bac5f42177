// A JetStream key-value bucket opened (made when missing) on first use and
// again after NATS reconnects: a NATS that lost its store lost the bucket.
// Opening throws QueueUnavailable while NATS cannot be reached.
import { Kvm, type KV, type KvOptions } from '@nats-io/kv';
import type { QueueConnection } from './connection.js';
import { unavailable } from './errors.js';

/** `options`: the bucket's settings when it is made (one revision kept unless said). */
export function lazyBucket(connection: QueueConnection, name: string, options: Partial<KvOptions> = {}): () => Promise<KV> {
  let bucket: Promise<KV> | undefined;
  connection.onReconnect(() => {
    bucket = undefined;
  });
  return () =>
    (bucket ??= connection
      .handles(1_000)
      .then(({ js }) => new Kvm(js).create(name, { history: 1, ...options }))
      .catch((error: unknown) => {
        bucket = undefined;
        throw unavailable(error);
      }));
}
