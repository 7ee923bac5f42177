// Calls to the Docker engine API: each under a deadline, each failure turned
// into a ProviderError whose kind the gateway maps to a status.
import { ProviderError } from '../types.js';

export interface DockerError extends Error {
  statusCode?: number;
  json?: { message?: string };
}

/**
 * How long one engine API call may take. An engine that accepts connections
 * but never answers (hung, or a paused proxy in front of it) would otherwise
 * hold /system/* requests and the function view's reads forever.
 */
export const ENGINE_CALL_TIMEOUT_MS = 8_000;

export async function withDeadline<T>(operation: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProviderError('unavailable', `docker: the engine did not answer within ${ENGINE_CALL_TIMEOUT_MS / 1000} s`)),
      ENGINE_CALL_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([operation(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** One engine call under the deadline; failures as ProviderError. */
export async function call<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await withDeadline(operation);
  } catch (error) {
    throw toProviderError(error);
  }
}

export function isNotFound(error: unknown): boolean {
  return (error as DockerError).statusCode === 404 || (error instanceof ProviderError && error.kind === 'not-found');
}

export function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  const dockerError = error as DockerError;
  const message = dockerError.json?.message ?? dockerError.message ?? String(error);
  // Two writers raced on the same service (Swarm's optimistic versioning): a conflict, not an outage.
  if (/update out of sequence/i.test(message)) return new ProviderError('conflict', message);
  switch (dockerError.statusCode) {
    case 404:
      return new ProviderError('not-found', message);
    case 409:
      return new ProviderError('conflict', message);
    case 400:
      return new ProviderError('invalid', message);
    default:
      return new ProviderError('unavailable', `docker: ${message}`);
  }
}

/**
 * A read-then-update of a service, done again when another writer changed it
 * in between (a version conflict), three times in all. `prepare` reads it
 * afresh and answers the update to make, or undefined when there is nothing to change.
 */
export async function updateOnFreshRead(prepare: () => Promise<(() => Promise<unknown>) | undefined>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const update = await prepare();
    if (!update) return;
    try {
      await call(update);
      return;
    } catch (error) {
      if (attempt < 2 && error instanceof ProviderError && error.kind === 'conflict') continue;
      throw error;
    }
  }
}
