// The source of the functions written in the browser ("New function" page),
// kept by the stack so that any browser, after any gateway restart, can open
// it again: one key per function (name.namespace) in the JetStream key-value
// bucket `faas-sources` (file storage, the last revision kept). Without NATS,
// in this process's memory (a restart forgets it; the page says so).
import type { KV } from '@nats-io/kv';
import { z } from 'zod';
import type { QueueConnection } from './connection.js';
import { unavailable } from './errors.js';
import { lazyBucket } from './kv-bucket.js';

export const SOURCES_BUCKET = 'faas-sources';

export const keptSourceSchema = z.object({
  service: z.string(),
  namespace: z.string(),
  template: z.string(),
  files: z.record(z.string(), z.string()),
  envVars: z.record(z.string(), z.string()).optional(),
  secrets: z.array(z.string()).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  image: z.string(),
  updatedAt: z.string(),
});
export type KeptSource = z.infer<typeof keptSourceSchema>;

export interface SourceStore {
  get(service: string, namespace: string): Promise<KeptSource | undefined>;
  put(source: KeptSource): Promise<void>;
  /** The source is forgotten (its function was deleted). */
  delete(service: string, namespace: string): Promise<void>;
  /** Whether a restart keeps it. */
  readonly durable: boolean;
}

const keyOf = (service: string, namespace: string) => `${service}.${namespace}`;

export function memorySources(): SourceStore {
  const kept = new Map<string, KeptSource>();
  return {
    durable: false,
    get: async (service, namespace) => kept.get(keyOf(service, namespace)),
    put: async (source) => void kept.set(keyOf(source.service, source.namespace), source),
    delete: async (service, namespace) => void kept.delete(keyOf(service, namespace)),
  };
}

/** Throws QueueUnavailable while NATS cannot be reached. */
export function natsSources(connection: QueueConnection): SourceStore {
  const open = lazyBucket(connection, SOURCES_BUCKET);
  const guard = async <T>(work: (kv: KV) => Promise<T>): Promise<T> => {
    const kv = await open();
    try {
      return await work(kv);
    } catch (error) {
      throw unavailable(error);
    }
  };
  return {
    durable: true,
    get: (service, namespace) =>
      guard(async (kv) => {
        const entry = await kv.get(keyOf(service, namespace));
        if (!entry || entry.operation !== 'PUT' || entry.length === 0) return undefined;
        const parsed = keptSourceSchema.safeParse(entry.json());
        return parsed.success ? parsed.data : undefined;
      }),
    put: (source) => guard(async (kv) => void (await kv.put(keyOf(source.service, source.namespace), JSON.stringify(source)))),
    delete: (service, namespace) => guard(async (kv) => void (await kv.delete(keyOf(service, namespace)))),
  };
}
