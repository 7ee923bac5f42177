// Reads a catalog someone else publishes (STORE_URL, or the one an admin
// chose), for the UI's store page: through the gateway, never by the browser
// (a page of the UI loads nothing from elsewhere), bounded in time and size.
// What it answers is only parsed, never passed on: an error says what the
// answer was, not what it held.
import { parseCatalog, type ReadCatalog } from './catalog.js';

export interface RemoteLimits {
  timeoutMs: number;
  maxBytes: number;
}

const REMOTE_LIMITS: RemoteLimits = { timeoutMs: 5_000, maxBytes: 4 * 1024 * 1024 };

/** The reason a catalog could not be used, in words for the page. */
export class CatalogUnavailable extends Error {}

/** An http(s) URL without credentials in it, or the reason it is not one. */
export function catalogUrlProblem(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'expected an absolute http:// or https:// URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `expected an http:// or https:// URL, not ${url.protocol}`;
  if (url.username || url.password) return 'the URL may not carry credentials';
  if (text.length > 2000) return 'the URL is longer than 2000 characters';
  return undefined;
}

export async function fetchCatalog(url: string, limits: RemoteLimits = REMOTE_LIMITS): Promise<ReadCatalog> {
  const problem = catalogUrlProblem(url);
  if (problem) throw new CatalogUnavailable(problem);
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow', headers: { accept: 'application/json' } });
  } catch (error) {
    throw new CatalogUnavailable(signal.aborted ? `it did not answer within ${limits.timeoutMs / 1000} s` : `it could not be reached (${causeOf(error)})`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    throw new CatalogUnavailable(`it answered ${res.status} ${res.statusText}`.trim());
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limits.maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new CatalogUnavailable(`its answer (${declared} bytes) is larger than ${limits.maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > limits.maxBytes) {
        await res.body?.cancel().catch(() => undefined);
        throw new CatalogUnavailable(`its answer is larger than ${limits.maxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof CatalogUnavailable) throw error;
    throw new CatalogUnavailable(signal.aborted ? `it did not finish its answer within ${limits.timeoutMs / 1000} s` : `its answer broke off (${causeOf(error)})`);
  }
  try {
    return parseCatalog(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new CatalogUnavailable((error as Error).message);
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}
