// Helpers of the suites that deploy functions of their own through the API:
// deploy and remove them, Docker look-ups, and bounded invocation loops.
import { containersOf, docker } from './docker.js';
import { fn, gatewayUrl, systemFetch, waitFor } from './gateway.js';

export { containersOf, docker, run } from './docker.js';

/** Deploys through the gateway and waits until `replicas` tasks answer. */
export async function deployFunction(body: Record<string, unknown>, replicas = 1): Promise<void> {
  const res = await systemFetch('/system/functions', { method: 'POST', body: JSON.stringify(body) });
  if (res.status !== 202) throw new Error(`deploy ${String(body.service)}: ${res.status} ${await res.text()}`);
  const name = String(body.service);
  if (replicas !== 1) {
    const scaled = await systemFetch(`/system/scale-function/${name}`, { method: 'POST', body: JSON.stringify({ serviceName: name, replicas }) });
    if (scaled.status !== 202) throw new Error(`scale ${name}: ${scaled.status} ${await scaled.text()}`);
  }
  await waitFor(`${name} with ${replicas} running tasks`, async () => ((await containersOf(name)).length === replicas ? true : undefined), 60_000, 500);
  // Ready as the gateway counts it (its probe of the task's watchdog answered, or Swarm's health check passed).
  await waitFor(`${name} with ${replicas} available replicas`, async () => {
    const res = await systemFetch(`/system/function/${name}`);
    return res.status === 200 && ((await res.json()) as { availableReplicas: number }).availableReplicas === replicas ? true : undefined;
  }, 60_000, 250);
  await waitFor(`${name} answering`, async () => ((await invoke(name, 'ok')).status === 200 ? true : undefined), 60_000, 250);
}

/**
 * Waits until Swarm itself runs every task of `name`: its service name is in
 * Swarm's DNS only then (after the task's own health check, every 10 s),
 * seconds after the gateway routes to it. For a function other functions
 * reach by that name (a callback receiver, a sink messages are forwarded to).
 */
export async function waitForSwarmRunning(name: string): Promise<void> {
  await waitFor(`${name} running as Swarm sees it (its name in Swarm's DNS)`, async () => {
    const res = await systemFetch(`/system/function/${name}`);
    if (res.status !== 200) return undefined;
    const { instances = [] } = (await res.json()) as { instances?: { state: string }[] };
    return instances.length > 0 && instances.every((i) => i.state === 'running') ? true : undefined;
  }, 60_000, 500);
}

export async function removeFunction(name: string): Promise<void> {
  await systemFetch('/system/functions', { method: 'DELETE', body: JSON.stringify({ functionName: name }) }).catch(() => undefined);
  await docker('service', 'rm', name).catch(() => undefined);
}

/** What a keeping test function (its server keeps each request) has kept, from the Nth request on: GET /function/<service>/calls?from=N. */
export async function keptCalls<T>(service: string, from = 0): Promise<T[]> {
  const res = await fetch(gatewayUrl(`/function/${service}/calls?from=${from}`), { signal: AbortSignal.timeout(15_000) });
  if (res.status !== 200) throw new Error(`GET /function/${service}/calls answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T[];
}

/** Kills the stack's NATS task and waits (60 s at most) until Swarm runs another; `say` hears each step as it happens. */
export async function killNats(say: (what: 'NATS killed' | 'NATS running again') => void): Promise<void> {
  const [nats] = await containersOf(fn('nats'));
  await docker('kill', nats!);
  say('NATS killed');
  await waitFor('NATS running again', async () => ((await containersOf(fn('nats'))).some((c) => c !== nats) ? true : undefined), 60_000, 250);
  say('NATS running again');
}

export interface Answer {
  status: number;
  text: string;
  ms: number;
}

export async function invoke(name: string, body: string, timeoutMs = 30_000, base = gatewayUrl()): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await fetch(`${base}/function/${name}`, { method: 'POST', body, signal: AbortSignal.timeout(timeoutMs) });
    return { status: res.status, text: await res.text(), ms: Date.now() - started };
  } catch (error) {
    return { status: 0, text: String((error as Error).cause ?? error), ms: Date.now() - started };
  }
}

/**
 * `workers` loops invoking `name` until `stop()` says so, or `maxRequests` /
 * `maxMs` are reached (every load here is bounded in count and time).
 */
export async function invokeLoop(
  name: string,
  options: { workers: number; maxRequests: number; maxMs: number; pauseMs?: number; stop?: () => boolean; base?: string },
): Promise<Array<Answer & { body: string }>> {
  const answers: Array<Answer & { body: string }> = [];
  const deadline = Date.now() + options.maxMs;
  let sent = 0;
  const worker = async (id: number) => {
    while (sent < options.maxRequests && Date.now() < deadline && !options.stop?.()) {
      const body = `w${id}-${sent++}`;
      answers.push({ ...(await invoke(name, body, 15_000, options.base)), body });
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: options.workers }, (_, id) => worker(id)));
  return answers;
}

/** One line for the reliability figures (grep "[reliability]" in the test output). */
export function report(line: string): void {
  process.stderr.write(`[reliability] ${line}\n`);
}
