// Addresses of a service's tasks that are starting or running, read from the
// tasks themselves (Swarm allocates each task's address on its networks before
// the container starts). Used while waking a function: Swarm's DNS lists a task
// only after its first passing HEALTHCHECK, seconds after the watchdog can
// already answer, so the gateway probes these addresses itself.

/** The fields of an engine task (GET /tasks) read here. */
export interface SwarmTask {
  ServiceID?: string;
  DesiredState?: string;
  Status?: { State?: string };
  NetworksAttachments?: Array<{ Network?: { ID?: string; Spec?: { Name?: string } }; Addresses?: string[] }>;
}

/** Task states with a container that may be listening ("starting" lasts until the first passing health check). */
const LIVE_STATES = new Set(['starting', 'running']);

/**
 * host:port of every task of `serviceId` meant to run (DesiredState running:
 * a task being removed has DesiredState shutdown) and starting or running,
 * on the networks `onNetwork` accepts. Sorted, without duplicates.
 */
export function liveTaskAddresses(
  tasks: readonly SwarmTask[],
  serviceId: string,
  onNetwork: (network: { id: string; name: string }) => boolean,
  port: number,
): string[] {
  const addresses = new Set<string>();
  for (const task of tasks) {
    if (task.ServiceID !== serviceId || task.DesiredState !== 'running' || !LIVE_STATES.has(task.Status?.State ?? '')) continue;
    for (const attachment of task.NetworksAttachments ?? []) {
      const network = { id: attachment.Network?.ID ?? '', name: attachment.Network?.Spec?.Name ?? '' };
      if (!onNetwork(network)) continue;
      for (const cidr of attachment.Addresses ?? []) {
        const ip = cidr.split('/')[0];
        // IPv4 only, as the DNS path (resolve4).
        if (ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) addresses.add(`${ip}:${port}`);
      }
    }
  }
  return [...addresses].sort();
}
