// Asks a function task's watchdog whether it is ready (GET /_/health: 200 once
// the function can take requests, 503 while starting or draining). Used while
// waking, before the orchestrator's own health check has passed.
import { request } from 'node:http';

export type HealthProbe = (address: string) => Promise<boolean>;

/** true when the watchdog at host:port answers 200 within `timeoutMs`; false on anything else. */
export function probeWatchdog(address: string, timeoutMs = 500): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const req = request(
      // A fresh connection (agent: false): the probe must not hold a pooled socket.
      { host: address.slice(0, colon), port: Number(address.slice(colon + 1)), path: '/_/health', method: 'GET', agent: false, timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** A starting container refuses at once; an address with no container yet would hang: give up quickly, the next probe retries. */
const STARTING_PROBE_TIMEOUT_MS = 250;

/** How the gateway asks a starting task whether it is ready (readiness, wake-ups). */
export const probeStartingWatchdog: HealthProbe = (address) => probeWatchdog(address, STARTING_PROBE_TIMEOUT_MS);

/** The addresses among `addresses` whose watchdog answers ready, probed in parallel. */
export async function readyAddresses(addresses: readonly string[], probe: HealthProbe): Promise<string[]> {
  const answers = await Promise.all(addresses.map((address) => probe(address)));
  return addresses.filter((_, i) => answers[i]);
}
