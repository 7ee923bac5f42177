// The Provider on Docker Swarm, through the engine API (dockerode; a
// manager's /var/run/docker.sock, or DOCKER_HOST). A function is a service
// labelled function=true on one of this gateway's function networks; every
// operation checks that first, so the gateway never touches anything else.
import { Readable } from 'node:stream';
import Docker from 'dockerode';
import type { Logger } from 'pino';
import {
  ProviderError,
  type FunctionDeployment,
  type FunctionEntry,
  type FunctionRef,
  type LogEntry,
  type LogQuery,
  type NamespaceInfo,
  type Provider,
  type ScaleOptions,
  type SecretRef,
  type SecretValue,
  type SnapshotListener,
} from '../types.js';
import { call, isNotFound, updateOnFreshRead, withDeadline, toProviderError } from './engine.js';
import { demuxFrames, parseLogLine, sortByTime } from './logs.js';
import { SwarmNamespaces } from './namespaces.js';
import { swarmRules } from './rules.js';
import { SwarmScope } from './scope.js';
import { SwarmSecrets, usesAny, type MountableSecret } from './secrets.js';
import { buildEntries, buildEntry, namespaceOf, type SnapshotOptions, type SwarmNode, type SwarmTask } from './snapshot.js';
import { buildServiceSpec, containerSpecOf, networksOf, secretMounts, serviceNameOf, stateLabels, type ServiceInfo } from './spec.js';
import { listAndWatch } from './watch.js';

export interface SwarmProviderOptions {
  /** Network new functions of the default namespace join; '' finds the gateway's own overlay network. */
  functionsNetwork: string;
  /** tasks: the gateway routes to task addresses itself (works without IPVS); vip: to the service name. */
  upstream: 'tasks' | 'vip';
  /** Endpoint mode of deployed functions (how functions reach each other by name). */
  functionEndpointMode: 'dnsrr' | 'vip';
  functionPort: number;
  defaultNamespace: string;
  /** Milliseconds between complete reads while watching. */
  pollMs: number;
  log: Logger;
  /** The engine client; tests pass a fake. */
  docker?: Docker;
}

/** Nodes change rarely: their names are re-read this often, or when a task names an unknown node. */
const NODE_REFRESH_MS = 30_000;

export class SwarmProvider implements Provider {
  readonly info = { provider: 'swarmfaas-swarm', orchestration: 'swarm' };
  readonly rules = swarmRules;
  private readonly docker: Docker;
  private readonly scope: SwarmScope;
  private readonly namespaces: SwarmNamespaces;
  private readonly secrets: SwarmSecrets;
  private nodes: { at: number; list: SwarmNode[] } | undefined;
  private warnedNoNetwork = false;

  constructor(private readonly options: SwarmProviderOptions) {
    // No options: dockerode honours DOCKER_HOST (tcp://, unix://), else /var/run/docker.sock.
    this.docker = options.docker ?? new Docker();
    const { log, defaultNamespace, functionsNetwork } = options;
    this.scope = new SwarmScope(this.docker, { functionsNetwork, defaultNamespace, log });
    this.namespaces = new SwarmNamespaces(this.docker, this.scope, { defaultNamespace, log });
    this.secrets = new SwarmSecrets(this.docker, this.scope, { log });
  }

  async list(): Promise<FunctionEntry[]> {
    const snapshotOptions = await this.snapshotOptions();
    const [services, tasks] = await Promise.all([
      call(() => this.docker.listServices() as Promise<ServiceInfo[]>),
      call(() => this.docker.listTasks({ filters: { 'desired-state': ['running'] } }) as Promise<SwarmTask[]>),
    ]);
    const nodes = await this.nodeList(tasks);
    const entries = buildEntries(services, tasks, nodes, snapshotOptions);
    // A function short of tasks: its task history says why (e.g. the image cannot be pulled).
    const short = entries.filter((e) => e.status.availableReplicas < e.status.replicas);
    if (short.length === 0) return entries;
    const byName = new Map(services.map((s) => [s.Spec?.Name, s]));
    const hostnames = hostnamesOf(nodes);
    const rebuilt = new Map<FunctionEntry, FunctionEntry>();
    await Promise.all(
      short.map(async (entry) => {
        const service = byName.get(serviceNameOf(entry.status, this.options.defaultNamespace));
        if (!service) return;
        const history = await this.tasksOf(service.ID).catch(() => undefined);
        const again = history && buildEntry(service, history, hostnames, snapshotOptions);
        if (again) rebuilt.set(entry, again);
      }),
    );
    return entries.map((e) => rebuilt.get(e) ?? e);
  }

  async get(ref: FunctionRef): Promise<FunctionEntry | undefined> {
    const service = await this.inspectFunction(ref);
    if (!service) return undefined;
    const tasks = await this.tasksOf(service.ID);
    return buildEntry(service, tasks, hostnamesOf(await this.nodeList(tasks)), await this.snapshotOptions());
  }

  async deploy(deployment: FunctionDeployment): Promise<void> {
    const name = serviceNameOf({ name: deployment.service, namespace: deployment.namespace }, this.options.defaultNamespace);
    if (await this.inspectService(name)) throw new ProviderError('conflict', `a service named ${name} already exists`);
    const spec = buildServiceSpec(deployment, {
      network: await this.networkFor(deployment),
      endpointMode: this.options.functionEndpointMode,
      secrets: await this.secrets.resolve(deployment.secrets ?? [], deployment.namespace),
      replicas: deployment.replicas ?? 1,
      defaultNamespace: this.options.defaultNamespace,
    });
    await call(() => this.docker.createService({ ...spec, ...this.authFor(deployment) }));
    this.options.log.info({ function: deployment.service, namespace: deployment.namespace, image: deployment.image }, 'function deployed');
  }

  async update(deployment: FunctionDeployment): Promise<void> {
    const ref = { name: deployment.service, namespace: deployment.namespace };
    const service = await this.inspectFunction(ref);
    if (!service) throw new ProviderError('not-found', `function ${deployment.service} not found`);
    const spec = buildServiceSpec(deployment, {
      network: deployment.network ? await this.networkFor(deployment) : (networksOf(service)[0] ?? (await this.networkFor(deployment))),
      endpointMode: (service.Spec?.EndpointSpec?.Mode as 'dnsrr' | 'vip' | undefined) ?? this.options.functionEndpointMode,
      secrets: await this.secrets.resolve(deployment.secrets ?? [], deployment.namespace),
      replicas: service.Spec?.Mode?.Replicated?.Replicas ?? 1,
      defaultNamespace: this.options.defaultNamespace,
    });
    // ForceUpdate makes every PUT roll the tasks, even when only the image's content changed under the same tag.
    const template = spec.TaskTemplate as Docker.ContainerTaskSpec;
    template.ForceUpdate = ((service.Spec?.TaskTemplate as Docker.ContainerTaskSpec | undefined)?.ForceUpdate ?? 0) + 1;
    await call(() => this.docker.getService(service.ID).update({ version: service.Version?.Index, ...spec, ...this.authFor(deployment) }));
    this.options.log.info({ function: deployment.service, namespace: deployment.namespace, image: deployment.image }, 'function updated');
  }

  async remove(ref: FunctionRef): Promise<void> {
    const service = await this.inspectFunction(ref);
    if (!service) throw new ProviderError('not-found', `function ${ref.name} not found`);
    await call(() => this.docker.getService(service.ID).remove());
    this.options.log.info({ function: ref.name, namespace: ref.namespace }, 'function removed');
  }

  async scale(ref: FunctionRef, replicas: number, options: ScaleOptions = {}): Promise<void> {
    // The spec may change between inspect and update.
    await updateOnFreshRead(async () => {
      const service = await this.inspectFunction(ref);
      if (!service?.Spec) throw new ProviderError('not-found', `function ${ref.name} not found`);
      if (!service.Spec.Mode?.Replicated) throw new ProviderError('invalid', `function ${ref.name} is not a replicated service`);
      const current = service.Spec.Mode.Replicated.Replicas ?? 0;
      if (options.ifReplicas !== undefined && current !== options.ifReplicas) {
        throw new ProviderError('conflict', `function ${ref.name} has ${current} replicas now, not ${options.ifReplicas}`);
      }
      if (current === replicas && !options.state) return undefined;
      // Service labels only: changing them (unlike the task template) restarts no task.
      const labels = { ...service.Spec.Labels, ...stateLabels(options.state) };
      const spec = { ...service.Spec, Labels: labels, Mode: { Replicated: { Replicas: replicas } } };
      return () => this.docker.getService(service.ID).update({ version: service.Version?.Index, ...spec });
    });
  }

  async *logs(query: LogQuery, signal: AbortSignal): AsyncIterable<LogEntry> {
    const service = await this.inspectFunction(query);
    if (!service) throw new ProviderError('not-found', `function ${query.name} not found`);
    const options = {
      stdout: true,
      stderr: true,
      timestamps: true,
      details: true,
      follow: query.follow,
      ...(query.tail !== undefined ? { tail: query.tail } : {}),
      ...(query.since ? { since: Math.floor(query.since.getTime() / 1000) } : {}),
      abortSignal: signal,
    };
    const serviceLogs = this.logLines(query, signal, () => this.docker.getService(service.ID).logs(options));
    if (query.follow) return yield* serviceLogs;
    // Swarm's service logs leave out tasks still "starting" (before their first passing
    // health check), which the gateway already sends calls to: their own task logs are added.
    const starting = (await this.tasksOf(service.ID)).filter((t) => t.DesiredState === 'running' && t.Status?.State === 'starting' && t.ID);
    if (starting.length === 0) return yield* serviceLogs;
    const all: LogEntry[] = [];
    for (const source of [serviceLogs, ...starting.map((t) => this.logLines(query, signal, () => taskLogs(this.docker, t.ID!, options)))]) {
      for await (const entry of source) all.push(entry);
    }
    yield* sortByTime(all);
  }

  /** One engine log stream (a service's or a task's) as entries. */
  private async *logLines(query: LogQuery, signal: AbortSignal, open: () => Promise<unknown>): AsyncIterable<LogEntry> {
    const output = (await call(open)) as unknown;
    // dockerode answers a Buffer without follow and a stream with it.
    const stream: Readable = Buffer.isBuffer(output) ? Readable.from([output]) : (output as Readable);
    const stop = () => stream.destroy();
    signal.addEventListener('abort', stop, { once: true });
    try {
      for await (const line of demuxFrames(stream)) yield parseLogLine(query, line);
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      signal.removeEventListener('abort', stop);
      stream.destroy();
    }
  }

  watch(listener: SnapshotListener): () => void {
    return listAndWatch({
      read: () => this.list(),
      events: () => this.docker.getEvents({ filters: { type: ['service', 'container', 'node'], event: WATCHED_EVENTS } }),
      relevant: isRelevantEvent,
      listener,
      log: this.options.log,
      pollMs: this.options.pollMs,
    });
  }

  private async snapshotOptions(): Promise<SnapshotOptions> {
    return {
      defaultNamespace: this.options.defaultNamespace,
      networks: await this.functionNetworks(),
      upstream: this.options.upstream,
      port: this.options.functionPort,
    };
  }

  /**
   * The networks whose functions are this gateway's: network ID -> namespace.
   * With none known (FUNCTIONS_NETWORK unset outside a container: a
   * misconfiguration the log names), the gateway has no functions, rather
   * than no answers.
   */
  private async functionNetworks(): Promise<Map<string, string>> {
    try {
      return await this.namespaces.networks();
    } catch (error) {
      if (!(error instanceof ProviderError) || error.kind !== 'invalid') throw error;
      if (!this.warnedNoNetwork) this.options.log.error({ err: error }, 'no functions network: this gateway sees no functions');
      this.warnedNoNetwork = true;
      return new Map();
    }
  }

  /** The current tasks of one service and its recent history (failed ones say why). */
  private tasksOf(serviceId: string): Promise<SwarmTask[]> {
    return call(() => this.docker.listTasks({ filters: { service: [serviceId] } }) as Promise<SwarmTask[]>);
  }

  private async nodeList(tasks: readonly SwarmTask[]): Promise<SwarmNode[]> {
    const known = this.nodes;
    const fresh = known && Date.now() - known.at < NODE_REFRESH_MS;
    const ids = new Set(known?.list.map((n) => n.ID));
    if (fresh && tasks.every((t) => !t.NodeID || ids.has(t.NodeID))) return known.list;
    try {
      const list = await call(() => this.docker.listNodes() as Promise<SwarmNode[]>);
      this.nodes = { at: Date.now(), list };
      return list;
    } catch (error) {
      // Node names are for display: without them, tasks show their node's ID.
      if (known) return known.list;
      this.options.log.debug({ err: error }, 'cannot list nodes');
      return [];
    }
  }

  /** The service when it exists under exactly this name (inspect also matches ID prefixes). */
  private async inspectService(name: string): Promise<ServiceInfo | undefined> {
    try {
      const service = (await withDeadline(() => this.docker.getService(name).inspect())) as ServiceInfo;
      return service.Spec?.Name === name ? service : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw toProviderError(error);
    }
  }

  /** The function's service, when it is one of this gateway's functions. */
  private async inspectFunction(ref: FunctionRef): Promise<ServiceInfo | undefined> {
    const service = await this.inspectService(serviceNameOf(ref, this.options.defaultNamespace));
    if (!service) return undefined;
    return namespaceOf(service, await this.snapshotOptions()) === ref.namespace ? service : undefined;
  }

  /** The network a deployment joins: its namespace's. Naming any other network is refused. */
  private async networkFor(deployment: FunctionDeployment): Promise<string> {
    const id = await this.namespaces.networkOf(deployment.namespace);
    if (!id) throw new ProviderError('invalid', `namespace: no namespace named ${deployment.namespace} (create it with POST /system/namespace/${deployment.namespace})`);
    if (deployment.network) {
      const wanted = await this.networkId(deployment.network);
      if (wanted !== id) throw new ProviderError('invalid', `network: functions of namespace ${deployment.namespace} join only its own network (not ${deployment.network})`);
    }
    return id;
  }

  private async networkId(name: string): Promise<string> {
    try {
      const network = (await withDeadline(() => this.docker.getNetwork(name).inspect())) as { Id: string; Scope?: string };
      if (network.Scope !== 'swarm') throw new ProviderError('invalid', `network: ${name} is not a swarm-scoped (overlay) network`);
      return network.Id;
    } catch (error) {
      if (isNotFound(error)) throw new ProviderError('invalid', `network: no network named ${name}`);
      throw toProviderError(error);
    }
  }

  /** The services of this gateway's functions in one namespace (all of them, ready or not). */
  private async servicesIn(namespace: string): Promise<ServiceInfo[]> {
    const options = await this.snapshotOptions();
    const services = (await call(() => this.docker.listServices())) as ServiceInfo[];
    return services.filter((service) => namespaceOf(service, options) === namespace);
  }

  async listNamespaces(): Promise<NamespaceInfo[]> {
    return this.namespaces.list();
  }

  async createNamespace(namespace: NamespaceInfo): Promise<void> {
    await this.namespaces.create(namespace);
  }

  async updateNamespace(namespace: NamespaceInfo): Promise<void> {
    await this.namespaces.update(namespace);
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.namespaces.delete(
      name,
      async (namespace) => (await this.servicesIn(namespace)).map((s) => s.Spec?.Name ?? s.ID),
      (namespace) => this.secrets.deleteAll(namespace),
    );
  }

  async listSecrets(namespace: string): Promise<SecretRef[]> {
    await this.requireNamespace(namespace);
    return this.secrets.list(namespace);
  }

  async createSecret(secret: SecretValue): Promise<void> {
    await this.requireNamespace(secret.namespace);
    await this.secrets.create(secret);
  }

  async updateSecret(secret: SecretValue): Promise<void> {
    await this.requireNamespace(secret.namespace);
    await this.secrets.update(secret, () => this.servicesIn(secret.namespace), (service, mount) => this.rollOnto(service, mount));
  }

  async deleteSecret(secret: SecretRef): Promise<void> {
    await this.requireNamespace(secret.namespace);
    await this.secrets.delete(secret, async (ids) =>
      (await this.servicesIn(secret.namespace)).filter((service) => usesAny(service, ids)).map((s) => s.Spec?.Name ?? s.ID),
    );
  }

  private async requireNamespace(namespace: string): Promise<void> {
    if (!(await this.namespaces.exists(namespace))) throw new ProviderError('not-found', `namespace ${namespace} not found`);
  }

  /** Points a service's mounts of a secret at its new generation: Swarm rolls the tasks (start-first). */
  private async rollOnto(service: ServiceInfo, mount: MountableSecret): Promise<void> {
    await updateOnFreshRead(async () => {
      const current = (await withDeadline(() => this.docker.getService(service.ID).inspect())) as ServiceInfo;
      const spec = structuredClone(current.Spec!);
      const container = containerSpecOf(spec)!;
      const kept = (container.Secrets ?? []).filter((s) => s.File?.Name !== mount.name && s.File?.Name !== `/var/openfaas/secrets/${mount.name}`);
      container.Secrets = [...kept, ...secretMounts(mount)];
      return () => this.docker.getService(service.ID).update({ version: current.Version?.Index, ...spec });
    });
  }

  private authFor(deployment: FunctionDeployment): { authconfig?: Docker.AuthConfig } {
    if (!deployment.registryAuth) return {};
    const first = deployment.image.split('/')[0] ?? '';
    // The registry is the first path part when it looks like a host (has a dot or port, or is localhost).
    const serveraddress = deployment.image.includes('/') && /[.:]|^localhost$/.test(first) ? first : 'https://index.docker.io/v1/';
    return { authconfig: { ...deployment.registryAuth, serveraddress } };
  }
}

/** GET /tasks/{id}/logs: dockerode has it (Task.logs), its type declarations do not. */
function taskLogs(docker: Docker, id: string, options: object): Promise<unknown> {
  return (docker.getTask(id) as unknown as { logs(options: object): Promise<unknown> }).logs(options);
}

function hostnamesOf(nodes: readonly SwarmNode[]): Map<string, string> {
  return new Map(nodes.map((node) => [node.ID, node.Description?.Hostname ?? node.ID]));
}

/**
 * The events that can change a function's status. Not exec_create/exec_start/
 * exec_die: every HEALTHCHECK of every container on the engine makes those
 * three (most of the stream). The engine matches an action's part before ':'
 * ("health_status: healthy").
 */
const WATCHED_EVENTS = ['create', 'update', 'remove', 'start', 'restart', 'die', 'kill', 'stop', 'destroy', 'oom', 'pause', 'unpause', 'health_status'];

/** Whether an engine event is about a service, a node, or a container of a swarm service. */
export function isRelevantEvent(line: string): boolean {
  try {
    const event = JSON.parse(line) as { Type?: string; Actor?: { Attributes?: Record<string, string> } };
    if (event.Type === 'service' || event.Type === 'node') return true;
    return event.Type === 'container' && Boolean(event.Actor?.Attributes?.['com.docker.swarm.service.name']);
  } catch {
    return false;
  }
}
