// Small helpers the end-to-end suites share: authenticated calls to the
// gateway's /system API and polling until a condition holds.
import { readFileSync } from 'node:fs';
import { inject } from 'vitest';

/** The project's version (package.json): the images' default tag and the gateway's release. */
export const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** One of the project's images as the stack under test uses it (FAAS_REPO, FAAS_TAG as in deploy_stack.sh). */
export function image(name: string): string {
  return `${process.env.FAAS_REPO || 'swarmfaas'}/${name}:${process.env.FAAS_TAG || version}`;
}

export function gatewayUrl(path = ''): string {
  return `${inject('gatewayUrl')}${path}`;
}

/** Name of a function of the test stack, e.g. fn('echoit') -> faastest_echoit. */
export function fn(name: string): string {
  return `${inject('stackName')}_${name}`;
}

export function authHeader(): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(inject('credentials')).toString('base64')}` };
}

/** fetch against the gateway with the stack's credentials. */
export function systemFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = { ...authHeader(), ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(init.headers as Record<string, string> | undefined) };
  // A connection-level failure says which request and why ("fetch failed" alone says neither).
  return fetch(gatewayUrl(path), { ...init, headers }).catch((error: Error) => {
    throw new Error(`${init.method ?? 'GET'} ${gatewayUrl(path)}: ${String(error.cause ?? error)}`, { cause: error });
  });
}

/** fetch against the stack's Prometheus or AlertManager, through the gateway (they publish no port), with the credentials. */
export function monitoringFetch(which: 'prometheus' | 'alertmanager', path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(gatewayUrl(`/system/${which}${path}`), { ...init, headers: { ...authHeader(), ...(init.headers as Record<string, string> | undefined) } });
}

export interface FunctionInfo {
  name: string;
  image: string;
  invocationCount: number;
  replicas: number;
  availableReplicas: number;
  envProcess: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export async function listFunctions(): Promise<FunctionInfo[]> {
  const res = await systemFetch('/system/functions');
  if (res.status !== 200) throw new Error(`GET /system/functions answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as FunctionInfo[];
}

/** Polls `probe` until it returns a value that is not undefined, or fails after timeoutMs. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
}
