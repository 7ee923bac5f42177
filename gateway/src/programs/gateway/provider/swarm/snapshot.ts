// The pure builder: engine data (services, tasks, nodes) in, one FunctionEntry
// per function out. No engine calls, so every rule here is unit-tested with
// plain objects. Only services on one of the gateway's own networks are
// functions of this gateway: another stack's functions are not ours to see.
import type { FunctionEntry, FunctionInstance } from '../types.js';
import { isFunctionService, networksOf, refOf, serviceNameOf, stateOf, toFunctionStatus, type ServiceInfo } from './spec.js';

/** The fields of an engine task (GET /tasks) read here. */
export interface SwarmTask {
  ID?: string;
  ServiceID?: string;
  NodeID?: string;
  DesiredState?: string;
  Status?: { State?: string; Timestamp?: string; Err?: string; Message?: string };
  NetworksAttachments?: Array<{ Network?: { ID?: string; Spec?: { Name?: string } }; Addresses?: string[] }>;
}

/** The fields of an engine node (GET /nodes) read here. */
export interface SwarmNode {
  ID: string;
  Description?: { Hostname?: string };
  Spec?: { Labels?: Record<string, string> };
}

export interface SnapshotOptions {
  defaultNamespace: string;
  /** The gateway's function networks: network ID -> the namespace whose functions join it. */
  networks: ReadonlyMap<string, string>;
  /** tasks: route to each ready task's address; vip: to the service name (Swarm's routing mesh balances). */
  upstream: 'tasks' | 'vip';
  port: number;
}

/** Task states with a container that may be listening ("starting" lasts until the first passing health check). */
const LIVE_STATES = new Set(['starting', 'running']);
/** Task states that say why a function has fewer tasks than it wants. */
const FAILED_STATES = new Set(['failed', 'rejected', 'orphaned']);

/** The namespace a service belongs to here, or undefined when it is not one of this gateway's functions. */
export function namespaceOf(service: ServiceInfo, options: SnapshotOptions): string | undefined {
  if (!isFunctionService(service)) return undefined;
  for (const network of networksOf(service)) {
    const namespace = options.networks.get(network);
    if (namespace !== undefined) return namespace;
  }
  return undefined;
}

export function buildEntries(
  services: readonly ServiceInfo[],
  tasks: readonly SwarmTask[],
  nodes: readonly SwarmNode[],
  options: SnapshotOptions,
): FunctionEntry[] {
  const byService = new Map<string, SwarmTask[]>();
  for (const task of tasks) {
    if (!task.ServiceID) continue;
    let list = byService.get(task.ServiceID);
    if (!list) byService.set(task.ServiceID, (list = []));
    list.push(task);
  }
  const hostnames = new Map(nodes.map((node) => [node.ID, node.Description?.Hostname ?? node.ID]));
  const entries: FunctionEntry[] = [];
  for (const service of services) {
    const entry = buildEntry(service, byService.get(service.ID) ?? [], hostnames, options);
    if (entry) entries.push(entry);
  }
  return entries;
}

/** One function's entry from its service and its tasks; undefined when the service is not one of ours. */
export function buildEntry(
  service: ServiceInfo,
  tasks: readonly SwarmTask[],
  hostnames: ReadonlyMap<string, string>,
  options: SnapshotOptions,
): FunctionEntry | undefined {
  const namespace = namespaceOf(service, options);
  if (namespace === undefined) return undefined;
  const ref = refOf(service, options.defaultNamespace);
  if (ref.namespace !== namespace) return undefined; // labelled for one namespace, joined to another's network: not trusted
  const networkIds = new Set([...options.networks].filter(([, ns]) => ns === namespace).map(([id]) => id));

  const current = tasks.filter((t) => t.ServiceID === service.ID && t.DesiredState === 'running');
  const instances: FunctionInstance[] = [];
  const endpoints: string[] = [];
  const starting: string[] = [];
  for (const task of current) {
    const state = task.Status?.State ?? 'unknown';
    const ready = state === 'running';
    const address = addressOn(task, networkIds);
    instances.push({
      id: task.ID ?? '',
      node: hostnames.get(task.NodeID ?? '') ?? task.NodeID ?? '',
      state,
      ready,
      ...(task.Status?.Timestamp ? { since: task.Status.Timestamp } : {}),
      ...(task.Status?.Err ? { error: task.Status.Err } : {}),
      ...(address ? { address: `${address}:${options.port}` } : {}),
    });
    if (!address) continue;
    if (ready) endpoints.push(`${address}:${options.port}`);
    if (LIVE_STATES.has(state)) starting.push(`${address}:${options.port}`);
  }
  endpoints.sort();
  starting.sort();
  instances.sort((a, b) => a.id.localeCompare(b.id));

  const available = instances.filter((i) => i.ready).length;
  const status = toFunctionStatus(service, available, options.defaultNamespace);
  if (available < status.replicas) {
    const reason = latestFailure(tasks.filter((t) => t.ServiceID === service.ID));
    if (reason) status.unavailableReason = reason;
  }
  const routed =
    options.upstream === 'vip'
      ? available > 0
        ? [`${serviceNameOf(ref, options.defaultNamespace)}:${options.port}`]
        : []
      : endpoints;
  return { status, instances, endpoints: routed, starting: options.upstream === 'vip' ? [] : starting, state: stateOf(service) };
}

/** IPv4 of the task on one of the given networks (the path the gateway has to it). */
function addressOn(task: SwarmTask, networkIds: ReadonlySet<string>): string | undefined {
  for (const attachment of task.NetworksAttachments ?? []) {
    if (!networkIds.has(attachment.Network?.ID ?? '')) continue;
    for (const cidr of attachment.Addresses ?? []) {
      const ip = cidr.split('/')[0];
      if (ip && /^\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip;
    }
  }
  return undefined;
}

/** The newest error among the tasks, e.g. "No such image: example/fn:1". */
function latestFailure(tasks: readonly SwarmTask[]): string | undefined {
  let newest: { at: string; text: string } | undefined;
  for (const task of tasks) {
    const text = task.Status?.Err;
    if (!text) continue;
    if (!FAILED_STATES.has(task.Status?.State ?? '') && task.DesiredState !== 'running') continue;
    const at = task.Status?.Timestamp ?? '';
    if (!newest || at > newest.at) newest = { at, text };
  }
  return newest?.text;
}
